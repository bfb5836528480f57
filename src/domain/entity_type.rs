//! The kinds of market entity greenchannel registers.
use super::uscc::Category;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    IndividualBusiness,
    LimitedCompany,
    SoleProprietorship,
    FarmersCooperative,
}

impl EntityType {
    pub const ALL: [EntityType; 4] = [
        EntityType::IndividualBusiness,
        EntityType::LimitedCompany,
        EntityType::SoleProprietorship,
        EntityType::FarmersCooperative,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::IndividualBusiness => "individual_business",
            EntityType::LimitedCompany => "limited_company",
            EntityType::SoleProprietorship => "sole_proprietorship",
            EntityType::FarmersCooperative => "farmers_cooperative",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn uscc_category(self) -> Category {
        match self {
            EntityType::IndividualBusiness => Category::IndividualBusiness,
            EntityType::FarmersCooperative => Category::FarmersCooperative,
            EntityType::LimitedCompany | EntityType::SoleProprietorship => Category::Enterprise,
        }
    }

    /// The type as printed on a licence.
    pub fn label_zh(self) -> &'static str {
        match self {
            EntityType::IndividualBusiness => "个体工商户",
            EntityType::LimitedCompany => "有限责任公司（自然人投资或控股）",
            EntityType::SoleProprietorship => "个人独资企业",
            EntityType::FarmersCooperative => "农民专业合作社",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            EntityType::IndividualBusiness => "Individual business",
            EntityType::LimitedCompany => "Limited liability company (natural-person invested or controlled)",
            EntityType::SoleProprietorship => "Sole proprietorship",
            EntityType::FarmersCooperative => "Farmers' specialised cooperative",
        }
    }

    /// Individual businesses may register without a name (Name Rules art. 25 context).
    pub fn name_required(self) -> bool {
        self != EntityType::IndividualBusiness
    }
}
