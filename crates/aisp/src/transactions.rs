//! Version-neutral transaction listing: the booking-time filter a request asks for, clamped to
//! what the consent may see; the Credits/Debits permissions as a filter; and keyset pages over
//! the consent's accounts (account by account in the order the customer selected them, then
//! by `(booking time, TransactionId)` inside each), addressed by opaque page tokens.
//!
//! Keyset paging is what keeps rows that share a booking time from being dropped or repeated
//! between pages (issue 6 §5): a page starts strictly after (or ends strictly before) the row
//! it was reached from, never at an offset that moves when new rows arrive.

use bascule_core_banking::{
    CoreBanking, PageDirection, TransactionCursor, TransactionPage, TransactionQuery,
};
use bascule_domain::aisp::TransactionAccess;
use bascule_domain::{AccountId, CreditDebit, Transaction, TransactionId};
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use crate::core_error;

/// The query parameter that carries a page token.
pub const PAGE_PARAM: &str = "page";

/// Records per page, whatever is configured (RW §Pagination: 25 to 1000).
pub fn page_size(configured: u32) -> u32 {
    configured.clamp(25, 1000)
}

/// Which transactions a request may see: booking times within `[from, to]` (both inclusive)
/// and, with only one of Credits/Debits granted, one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransactionFilter {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub credit_debit: Option<CreditDebit>,
}

impl TransactionFilter {
    /// The request's `fromBookingDateTime`/`toBookingDateTime` narrowed to the consent's window
    /// (`TransactionFromDateTime`/`ToDateTime`, and the bank's history rule): a request never
    /// widens what the customer agreed to (AISP §Consent Elements).
    pub fn new(
        requested: (Option<OffsetDateTime>, Option<OffsetDateTime>),
        window: (Option<OffsetDateTime>, Option<OffsetDateTime>),
        access: TransactionAccess,
    ) -> Self {
        let from = latest(requested.0, window.0);
        let to = earliest(requested.1, window.1);
        let credit_debit = match (access.credits, access.debits) {
            (true, false) => Some(CreditDebit::Credit),
            (false, true) => Some(CreditDebit::Debit),
            // Both, or neither (which the consent rules never let through): no direction filter.
            _ => None,
        };
        Self {
            from,
            to,
            credit_debit,
        }
    }

    /// Also within `[from, to]` (e.g. a statement's period).
    pub fn within(self, from: OffsetDateTime, to: OffsetDateTime) -> Self {
        Self {
            from: latest(self.from, Some(from)),
            to: earliest(self.to, Some(to)),
            ..self
        }
    }

    /// Nothing can match: the window is empty.
    fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(f), Some(t)) if f > t)
    }
}

fn latest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where a page starts: in `account`, after (Forward) or before (Backward) `cursor`, or from
/// that account's start (Forward) or end (Backward) without one. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub account: AccountId,
    pub cursor: Option<TransactionCursor>,
    pub direction: PageDirection,
}

const TOKEN_VERSION: &str = "1";

impl PageToken {
    pub fn encode(&self) -> String {
        let direction = match self.direction {
            PageDirection::Forward => "F",
            PageDirection::Backward => "B",
        };
        let (at, id) = match &self.cursor {
            Some(c) => (
                (c.booked_at.unix_timestamp_nanos() / 1000).to_string(),
                c.id.as_str().to_owned(),
            ),
            None => (String::new(), String::new()),
        };
        let plain = format!("{TOKEN_VERSION}~{direction}~{}~{at}~{id}", self.account);
        URL_SAFE_NO_PAD.encode(plain)
    }

    /// A token this server issued; anything else is 400 `UK.OBIE.Field.Invalid`.
    pub fn decode(raw: &str) -> Result<Self, Error> {
        Self::parse(raw).ok_or_else(|| {
            Error::BadRequest(vec![
                ObErrorDetail::new(
                    ObErrorCode::FieldInvalid,
                    "The page parameter is not one this server issued",
                )
                .at(PAGE_PARAM),
            ])
        })
    }

    fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let plain = String::from_utf8(bytes).ok()?;
        let parts: Vec<&str> = plain.split('~').collect();
        let [version, direction, account, at, id] = parts.as_slice() else {
            return None;
        };
        if *version != TOKEN_VERSION {
            return None;
        }
        let direction = match *direction {
            "F" => PageDirection::Forward,
            "B" => PageDirection::Backward,
            _ => return None,
        };
        let account = AccountId::parse(*account).ok()?;
        let cursor = match (*at, *id) {
            ("", "") => None,
            (at, id) => Some(TransactionCursor {
                booked_at: OffsetDateTime::from_unix_timestamp_nanos(
                    at.parse::<i128>().ok()?.checked_mul(1000)?,
                )
                .ok()?,
                id: TransactionId::parse(id).ok()?,
            }),
        };
        Some(Self {
            account,
            cursor,
            direction,
        })
    }
}

/// One page of transactions and where the pages around it start.
#[derive(Debug, Clone)]
pub struct TransactionListing {
    /// In account order, then ascending (booking time, id).
    pub transactions: Vec<Transaction>,
    /// Every transaction the filter lets through, over all the accounts.
    pub total: u64,
    pub limit: u32,
    pub next: Option<Next>,
    pub prev: Option<Next>,
    /// The token of the last page (the final `limit` rows), when there are any rows.
    pub last: Option<PageToken>,
}

/// Where a neighbouring page is: a token, or the first page (no token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    First,
    Token(PageToken),
}

impl TransactionListing {
    /// `Meta.TotalPages`: at least one page, even when it is empty.
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.limit.max(1))).max(1)
    }
}

/// The page `page` names (the first page when `None`) of the transactions of `accounts` that
/// `filter` lets through. A token naming an account outside `accounts` is refused (400).
pub async fn list(
    core: &dyn CoreBanking,
    accounts: &[AccountId],
    filter: TransactionFilter,
    page: Option<&PageToken>,
    limit: u32,
) -> Result<TransactionListing, Error> {
    let limit = limit.max(1);
    let start = match page {
        None => 0,
        Some(t) => accounts
            .iter()
            .position(|a| *a == t.account)
            .ok_or_else(|| {
                Error::BadRequest(vec![
                    ObErrorDetail::new(
                        ObErrorCode::FieldInvalid,
                        "The page parameter names an account outside this request",
                    )
                    .at(PAGE_PARAM),
                ])
            })?,
    };
    if accounts.is_empty() || filter.is_empty() {
        return Ok(TransactionListing {
            transactions: Vec::new(),
            total: 0,
            limit,
            next: None,
            prev: None,
            last: None,
        });
    }
    let direction = page.map(|t| t.direction).unwrap_or_default();
    let forward = direction == PageDirection::Forward;
    let mut cursor = page.and_then(|t| t.cursor.clone());
    let mut totals: Vec<Option<u64>> = vec![None; accounts.len()];
    // Pages walk accounts in the page's direction: collected per account, joined in order.
    let mut chunks: Vec<Vec<Transaction>> = Vec::new();
    let mut taken: usize = 0;
    let mut index = start;
    // Rows on the far side of where the page started, in the start account (`behind`), and
    // beyond where it stopped, in the end account (`ahead`).
    let mut behind = false;
    let ahead;
    let end;
    loop {
        let want = u32::try_from(limit as usize - taken).unwrap_or(limit);
        let got = query(
            core,
            &accounts[index],
            &filter,
            cursor.take(),
            direction,
            want,
        )
        .await?;
        totals[index] = Some(got.total);
        let (back, front) = if forward {
            (got.has_before, got.has_after)
        } else {
            (got.has_after, got.has_before)
        };
        if index == start {
            behind = back;
        }
        taken += got.transactions.len();
        chunks.push(got.transactions);
        let full = taken >= limit as usize;
        let next_index = if forward {
            (index + 1 < accounts.len()).then_some(index + 1)
        } else {
            index.checked_sub(1)
        };
        match next_index {
            Some(n) if !full => index = n,
            _ => {
                ahead = full && front;
                end = index;
                break;
            }
        }
    }
    if !forward {
        chunks.reverse();
    }
    let transactions: Vec<Transaction> = chunks.into_iter().flatten().collect();

    // Accounts the page did not reach still count towards the total and the neighbours.
    for (i, account) in accounts.iter().enumerate() {
        if totals[i].is_none() {
            totals[i] = Some(
                query(core, account, &filter, None, direction, 1)
                    .await?
                    .total,
            );
        }
    }
    let has_rows =
        |range: std::ops::Range<usize>| totals[range].iter().any(|t| t.is_some_and(|t| t > 0));
    let (low, high) = if forward { (start, end) } else { (end, start) };
    let (low_side, high_side) = if forward {
        (behind, ahead)
    } else {
        (ahead, behind)
    };
    let has_before = low_side || has_rows(0..low);
    let has_after = high_side || has_rows(high + 1..accounts.len());
    let total = totals.iter().map(|t| t.unwrap_or(0)).sum();
    let last_token = PageToken {
        account: accounts[accounts.len() - 1].clone(),
        cursor: None,
        direction: PageDirection::Backward,
    };
    let token_at = |t: &Transaction, direction| {
        Next::Token(PageToken {
            account: t.account_id.clone(),
            cursor: Some(TransactionCursor {
                booked_at: t.booked_at,
                id: t.id.clone(),
            }),
            direction,
        })
    };
    let next = has_after.then(|| match transactions.last() {
        Some(t) => token_at(t, PageDirection::Forward),
        // An empty page with rows after it (reached backwards from a row that has gone):
        // everything after is everything, from the top.
        None => Next::First,
    });
    let prev = has_before.then(|| match transactions.first() {
        Some(t) => token_at(t, PageDirection::Backward),
        None => Next::Token(last_token.clone()),
    });
    Ok(TransactionListing {
        transactions,
        total,
        limit,
        next,
        prev,
        last: (total > 0).then_some(last_token),
    })
}

async fn query(
    core: &dyn CoreBanking,
    account: &AccountId,
    filter: &TransactionFilter,
    cursor: Option<TransactionCursor>,
    direction: PageDirection,
    limit: u32,
) -> Result<TransactionPage, Error> {
    core.transactions(
        account,
        &TransactionQuery {
            from: filter.from,
            to: filter.to,
            credit_debit: filter.credit_debit,
            cursor,
            direction,
            limit,
        },
    )
    .await
    .map_err(core_error)
}

/// A query-string date-time (`fromBookingDateTime`, `fromStatementDateTime` ...). RW §Date
/// Formats: ISO 8601 without a timezone, one sent being ignored, read in the bank's time (UTC);
/// the time part is optional (a bare date is midnight). The extended (`2017-04-05T10:43:07`)
/// and basic (`20170405T104307`) forms are both ISO 8601 and both accepted, with or without
/// fractional seconds. Anything else is 400 `UK.OBIE.Field.InvalidDate` naming the parameter.
pub fn parse_query_datetime(raw: &str, name: &str) -> Result<OffsetDateTime, Error> {
    parse_local(raw).ok_or_else(|| {
        Error::BadRequest(vec![
            ObErrorDetail::new(
                ObErrorCode::FieldInvalidDate,
                format!("{name} must be an ISO 8601 date-time, e.g. 2017-04-05T10:43:07"),
            )
            .at(name),
        ])
    })
}

fn parse_local(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    // Every form is ASCII; refusing the rest first also keeps the byte slicing below on
    // character boundaries (a multi-byte character there was a panic, a 500: found by
    // schemathesis with `toBookingDateTime=«\u{622a2}Q}`).
    if !raw.is_ascii() {
        return None;
    }
    let (date, time) = match raw.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (raw, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (y, m, d) = match date.len() {
        10 if date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-' => {
            (&date[0..4], &date[5..7], &date[8..10])
        }
        8 => (&date[0..4], &date[4..6], &date[6..8]),
        _ => return None,
    };
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    let Some(time) = time else {
        return Some(date.midnight().assume_utc());
    };
    // The timezone, if any, is ignored (RW §Date Formats): cut at Z, + or -.
    let local = time.find(['Z', 'z', '+', '-']).map_or(time, |i| &time[..i]);
    let (clock, fraction) = match local.split_once(['.', ',']) {
        Some((c, f)) if digits(f) => (c, Some(f)),
        Some(_) => return None,
        None => (local, None),
    };
    let fields: Vec<&str> = if clock.contains(':') {
        clock.split(':').collect()
    } else if clock.len() % 2 == 0 && clock.len() <= 6 {
        (0..clock.len())
            .step_by(2)
            .map(|i| &clock[i..i + 2])
            .collect()
    } else {
        return None;
    };
    if fields.is_empty() || fields.len() > 3 || !fields.iter().all(|f| f.len() == 2 && digits(f)) {
        return None;
    }
    let part = |i: usize| fields.get(i).map_or(Some(0), |f| f.parse::<u8>().ok());
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let mut padded: String = f.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            padded.parse::<u32>().ok()?
        }
    };
    let time = time::Time::from_hms_nano(part(0)?, part(1)?, part(2)?, nanos).ok()?;
    Some(date.with_time(time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn query_dates_accept_the_iso_8601_variants_conformance_sends() {
        let cases = [
            ("2020-04-23T15:47:00", datetime!(2020-04-23 15:47:00 UTC)),
            (
                "2020-04-23T15:47:00.999",
                datetime!(2020-04-23 15:47:00.999 UTC),
            ),
            ("2016-01-01T10:40:00", datetime!(2016-01-01 10:40:00 UTC)),
            (
                "20160101T104012.345Z",
                datetime!(2016-01-01 10:40:12.345 UTC),
            ),
            (
                "2016-01-01T10:40:12.34567Z",
                datetime!(2016-01-01 10:40:12.34567 UTC),
            ),
            // A timezone is ignored, not applied.
            (
                "2016-01-01T10:40:12.34567+01",
                datetime!(2016-01-01 10:40:12.34567 UTC),
            ),
            (
                "20160101T104012.567+01",
                datetime!(2016-01-01 10:40:12.567 UTC),
            ),
            (
                "2016-01-01T10:40:12-05:00",
                datetime!(2016-01-01 10:40:12 UTC),
            ),
            ("2016-01-01", datetime!(2016-01-01 00:00 UTC)),
            ("2016-01-01T10:40", datetime!(2016-01-01 10:40 UTC)),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_local(raw), Some(want), "{raw}");
        }
        for bad in [
            "",
            "yesterday",
            "2016-13-01",
            "2016-02-30T00:00:00",
            "2016-01-01T25:00:00",
            "2016-01-01T10:4",
            "2016-01-01T10:40:00.x",
            "٢٠١٦-01-01",
            // Eight bytes, four characters: the basic form's slicing must not split them.
            "\u{ab}\u{622a2}Q}",
            "20160101T1\u{e9}0",
            "2016-01-01T\u{e9}\u{e9}:00",
        ] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_tokens_round_trip_and_refuse_forgeries() {
        let token = PageToken {
            account: AccountId::parse("acc-1").unwrap(),
            cursor: Some(TransactionCursor {
                booked_at: datetime!(2026-01-05 09:00:00.123456 UTC),
                id: TransactionId::parse("txn-1").unwrap(),
            }),
            direction: PageDirection::Backward,
        };
        assert_eq!(PageToken::decode(&token.encode()).unwrap(), token);
        let bare = PageToken {
            cursor: None,
            direction: PageDirection::Forward,
            ..token
        };
        assert_eq!(PageToken::decode(&bare.encode()).unwrap(), bare);
        for bad in ["", "!!", "MQ", &URL_SAFE_NO_PAD.encode("2~F~acc-1~~")] {
            assert!(PageToken::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_request_never_widens_the_consent_window() {
        let access = TransactionAccess {
            level: bascule_domain::aisp::Level::Basic,
            credits: true,
            debits: false,
        };
        let window = (
            Some(datetime!(2026-01-01 00:00 UTC)),
            Some(datetime!(2026-01-31 00:00 UTC)),
        );
        let f = TransactionFilter::new(
            (Some(datetime!(2025-01-01 00:00 UTC)), None),
            window,
            access,
        );
        assert_eq!(f.from, window.0);
        assert_eq!(f.to, window.1);
        assert_eq!(f.credit_debit, Some(CreditDebit::Credit));
        let f = TransactionFilter::new(
            (
                Some(datetime!(2026-01-10 00:00 UTC)),
                Some(datetime!(2026-01-20 00:00 UTC)),
            ),
            window,
            TransactionAccess {
                debits: true,
                ..access
            },
        );
        assert_eq!(f.from, Some(datetime!(2026-01-10 00:00 UTC)));
        assert_eq!(f.to, Some(datetime!(2026-01-20 00:00 UTC)));
        assert_eq!(f.credit_debit, None);
    }
}
