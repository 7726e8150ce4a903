//! Core-banking failures as every Open Banking API reports them.

use bascule_core_banking::CoreBankingError;
use bascule_http::{Error, ObErrorCode};

/// An unknown record is the client's mistake (400 `UK.OBIE.Resource.NotFound`, RW §HTTP
/// Status Codes); an unreachable core is 503; the rest are ours (500).
pub fn core_error(e: CoreBankingError) -> Error {
    match e {
        CoreBankingError::NotFound(what) => {
            Error::bad_request(ObErrorCode::ResourceNotFound, format!("No such {what}"))
        }
        CoreBankingError::Unavailable(detail) => Error::Unavailable(detail),
        other => Error::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_record_is_the_clients_400_and_an_unreachable_core_is_503() {
        match core_error(CoreBankingError::NotFound("account")) {
            Error::BadRequest(d) => {
                assert_eq!(d[0].code, ObErrorCode::ResourceNotFound);
                assert_eq!(d[0].message, "No such account");
            }
            other => panic!("not a 400: {other:?}"),
        }
        assert!(matches!(
            core_error(CoreBankingError::Unavailable("down".into())),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            core_error(CoreBankingError::InsufficientFunds),
            Error::Internal(_)
        ));
    }
}
