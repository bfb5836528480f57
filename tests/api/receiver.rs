//! A real webhook receiver on 127.0.0.1:0: verifies the HMAC signature,
//! records each delivery, deduplicates by delivery id, can fail on purpose,
//! and notices the same delivery being sent twice at once.
use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use hmac::{Hmac, Mac};
use poem::{
    EndpointExt, Request, Response, Route, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use sha2::Sha256;

#[derive(Default)]
pub struct Log {
    /// Every request in arrival order: (delivery id, event, body).
    pub requests: Vec<(String, String, String)>,
    /// Delivery ids accepted once.
    pub accepted: HashSet<String>,
    pub bad_signatures: usize,
    pub in_flight: HashMap<String, usize>,
    /// The same delivery id arriving while an earlier send was in flight.
    pub concurrent_duplicates: usize,
    /// Fail this many requests first (500), then succeed.
    pub fail_first: usize,
    pub always_fail: bool,
    pub delay: Duration,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub secret: String,
    pub log: Arc<Mutex<Log>>,
}

fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1 = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

#[handler]
async fn hook(req: &Request, body: String, state: Data<&(String, Arc<Mutex<Log>>)>) -> Response {
    let (secret, log) = state.0;
    let id = req.header("X-Greenchannel-Delivery").unwrap_or_default().to_string();
    let event = req.header("X-Greenchannel-Event").unwrap_or_default().to_string();
    let signed = verify(secret, req.header("X-Greenchannel-Signature").unwrap_or_default(), &body);
    let (fail, delay) = {
        let mut l = log.lock().unwrap();
        l.requests.push((id.clone(), event, body.clone()));
        let n = l.in_flight.entry(id.clone()).or_default();
        *n += 1;
        if *n > 1 {
            l.concurrent_duplicates += 1;
        }
        if !signed {
            l.bad_signatures += 1;
        }
        let fail = l.always_fail || l.fail_first > 0 || !signed;
        if l.fail_first > 0 {
            l.fail_first -= 1;
        }
        (fail, l.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut l = log.lock().unwrap();
    *l.in_flight.get_mut(&id).unwrap() -= 1;
    if fail {
        return Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).finish();
    }
    l.accepted.insert(id);
    Response::builder().status(StatusCode::OK).finish()
}

impl Receiver {
    pub async fn start(secret: &str) -> Receiver {
        let log = Arc::new(Mutex::new(Log::default()));
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr: SocketAddr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let app = Route::new().at("/hook", poem::post(hook)).data((secret.to_string(), log.clone()));
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        Receiver { url: format!("http://{addr}/hook"), secret: secret.into(), log }
    }

    pub fn accepted(&self) -> usize {
        self.log.lock().unwrap().accepted.len()
    }

    /// Waits until `n` distinct deliveries were accepted (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while self.accepted() < n {
            assert!(tokio::time::Instant::now() < deadline, "only {} of {n} deliveries accepted", self.accepted());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
