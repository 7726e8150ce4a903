//! Customers: the people (OB parties) who hold accounts.

use time::Date;

use crate::ids::CustomerId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub town: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub legal_name: String,
    pub date_of_birth: Date,
    pub email: String,
    pub phone: String,
    pub address: PostalAddress,
}
