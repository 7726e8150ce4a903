//! Living the months: each day the generator plans what the customers do (pay, spend, save,
//! collect) as timed events, then moves the clock to each event in turn and makes it happen
//! on the ledger, whose own daily jobs run every morning.

use bascule_core_banking::CoreBanking;
use bascule_domain::{AccountId, Clock, Merchant, Pence, ProprietaryCode, TransactionId};
use bascule_ledger::{LedgerError, NewScheduledPayment};
use rand::RngExt;
use time::{Date, Duration, Month, Weekday};

use crate::DemoError;
use crate::calendar::{at, clamp_day, is_weekend, working_day_after, working_day_before};
use crate::content::{Settle, Shop};
use crate::generator::{Builder, Earnings, Party, PotRole};
use crate::persona::BillPattern;

/// Something that happens at a moment of the history.
pub(crate) enum Event {
    Jobs,
    Income {
        c: usize,
        credit: Credit,
    },
    PaydaySaving {
        c: usize,
    },
    DirectDebit {
        c: usize,
        bill: usize,
        amount: Pence,
    },
    Card {
        c: usize,
        shop: &'static Shop,
        amount: Pence,
        essential: bool,
    },
    Settle {
        txn: TransactionId,
        amount: Pence,
    },
    Release {
        txn: TransactionId,
    },
    RoundUps {
        c: usize,
    },
    TopUp {
        c: usize,
    },
    GoalSpend {
        c: usize,
        pot: usize,
    },
    TaxSave {
        c: usize,
        amount: Pence,
    },
    TaxPayment {
        c: usize,
    },
    PayFriend {
        c: usize,
        friend: usize,
        amount: Pence,
        reference: &'static str,
    },
    FromFriend {
        c: usize,
        friend: usize,
        amount: Pence,
        reference: &'static str,
    },
    /// The customer books a payment ahead, for the daily jobs to make.
    Schedule {
        c: usize,
        payment: Booking,
    },
}

/// Money arriving from another bank.
pub(crate) struct Credit {
    amount: Pence,
    from: Party,
    reference: String,
    code: ProprietaryCode,
}

/// A payment booked ahead: when, how much, to whom.
pub(crate) struct Booking {
    pub execute_on: Date,
    pub amount: Pence,
    pub reference: String,
    pub to: Party,
}

/// `Ok(None)` when the customer simply could not afford it: the demo skips, as a person would.
fn afford<T>(r: Result<T, LedgerError>) -> Result<Option<T>, LedgerError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(LedgerError::InsufficientFunds) => Ok(None),
        Err(e) => Err(e),
    }
}

fn pct(amount: Pence, percent: i64) -> Pence {
    Pence(amount.0 * percent / 100)
}

impl Builder {
    /// Lives every day from `start` to `end`, then runs the daily jobs once more at `end`.
    pub async fn run(&mut self) -> Result<(), DemoError> {
        let mut day = self.start.date();
        let last = self.end.date();
        while day <= last {
            self.plan_day(day)?;
            let midnight = at(day, 86_400);
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 >= midnight {
                    break;
                }
                let ((when, _), event) = entry.remove_entry();
                self.clock.set(when);
                self.execute(event).await?;
            }
            day += Duration::days(1);
        }
        // The history ends at `end`: whatever is still queued (settlements, mostly) is the
        // future, and those authorisations stay pending.
        self.clock.set(self.end);
        self.ledger.run_daily_jobs().await?;
        Ok(())
    }

    fn plan_day(&mut self, day: Date) -> Result<(), DemoError> {
        // The bank's batch runs before anyone is up; salaries land just after midnight.
        self.push(at(day, 4 * 3600), Event::Jobs);
        let weekend = is_weekend(day);
        let month = day.month();
        for c in 0..self.sims.len() {
            self.plan_income(c, day)?;
            self.plan_bills(c, day, month);
            let spending = self.sims[c].spending.clone();
            for (h, shops) in spending {
                let p = if weekend { h.weekend } else { h.weekday };
                if self.rng.random_bool(p) {
                    let shop = self.pick(shops);
                    let amount = match shop.settle {
                        Settle::Hold(hold) => Pence(hold),
                        _ => self.pence(shop.min, shop.max),
                    };
                    let when = at(
                        day,
                        self.rng.random_range(h.hours.0 * 3600..=h.hours.1 * 3600),
                    );
                    self.push(
                        when,
                        Event::Card {
                            c,
                            shop,
                            amount,
                            essential: h.essential,
                        },
                    );
                }
            }
            for (shop, sub_day) in self.sims[c].subscriptions.clone() {
                if day.day() == sub_day {
                    let when = at(day, self.rng.random_range(3 * 3600..6 * 3600));
                    self.push(
                        when,
                        Event::Card {
                            c,
                            shop,
                            amount: Pence(shop.min),
                            essential: true,
                        },
                    );
                }
            }
            if day.weekday() == Weekday::Sunday {
                self.push(at(day, 20 * 3600 + 30 * 60), Event::RoundUps { c });
            }
            self.push(at(day, 22 * 3600 + 15 * 60), Event::TopUp { c });
            self.plan_friend_transfer(c, day, if weekend { 0.16 } else { 0.07 }, true);
            self.plan_friend_transfer(c, day, 0.06, false);
            for pot in 0..self.sims[c].pots.len() {
                if let PotRole::Goal {
                    spend: Some((spend_in, _)),
                    ..
                } = self.sims[c].pots[pot].role
                    && spend_in == month
                    && day.day() == 9
                {
                    self.push(at(day, 9 * 3600), Event::GoalSpend { c, pot });
                }
            }
            if matches!(self.sims[c].income, Earnings::Trade { .. })
                && matches!(month, Month::January | Month::July)
                && day == working_day_before(clamp_day(day.year(), i32::from(u8::from(month)), 31))
            {
                self.push(at(day, 10 * 3600), Event::TaxPayment { c });
            }
        }
        Ok(())
    }

    /// A transfer with one of the customer's friends, with `chance` of it on `day`: to them
    /// when `paying`, else from them.
    fn plan_friend_transfer(&mut self, c: usize, day: Date, chance: f64, paying: bool) {
        if !self.rng.random_bool(chance) {
            return;
        }
        let lists = &self.data.bank.lists;
        let (references, most, first_hour) = if paying {
            (&lists.to_friend, 60, 10)
        } else {
            (&lists.from_friend, 45, 9)
        };
        let friend = self.rng.random_range(0..self.sims[c].friends.len());
        let reference = self.pick(references).as_str();
        let amount = self.pounds(5, most);
        let when = at(day, self.rng.random_range(first_hour * 3600..23 * 3600));
        let event = if paying {
            Event::PayFriend {
                c,
                friend,
                amount,
                reference,
            }
        } else {
            Event::FromFriend {
                c,
                friend,
                amount,
                reference,
            }
        };
        self.push(when, event);
    }

    fn plan_income(&mut self, c: usize, day: Date) -> Result<(), DemoError> {
        let month_num = i32::from(u8::from(day.month()));
        let mut credits = Vec::new();
        let mut payday = false;
        match &mut self.sims[c].income {
            Earnings::Salary {
                employer,
                reference,
                net,
                day: pay_day,
            } => {
                let nominal = clamp_day(day.year(), month_num, *pay_day);
                if day == working_day_before(nominal) {
                    payday = true;
                    // Annual pay rise with the new tax year.
                    if day.month() == Month::April {
                        *net = pct(*net, 103);
                    }
                    credits.push(Credit {
                        amount: *net,
                        from: employer.clone(),
                        reference: reference.clone(),
                        code: ProprietaryCode::Salary,
                    });
                }
            }
            Earnings::Pension {
                state,
                reference,
                four_weekly,
                anchor,
                private,
                monthly,
            } => {
                if (day - *anchor).whole_days().rem_euclid(28) == 0 {
                    credits.push(Credit {
                        amount: *four_weekly,
                        from: state.clone(),
                        reference: reference.clone(),
                        code: ProprietaryCode::FasterPayment,
                    });
                }
                if day == working_day_before(clamp_day(day.year(), month_num, 1)) {
                    payday = true;
                    credits.push(Credit {
                        amount: *monthly,
                        from: private.clone(),
                        reference: "PENSION".to_owned(),
                        code: ProprietaryCode::FasterPayment,
                    });
                }
            }
            Earnings::Trade { .. } => {
                // A sole trader pays themselves nothing; month end is when they tidy up.
                payday = day == working_day_before(clamp_day(day.year(), month_num, 31));
            }
        }
        let trade = match &self.sims[c].income {
            Earnings::Trade {
                invoice_chance,
                takings,
                clients,
                ..
            } => Some((*invoice_chance, *takings, clients.len())),
            _ => None,
        };
        if let Some((chance, takings, client_count)) = trade
            && client_count > 0
            && !is_weekend(day)
            && self.rng.random_bool(chance)
        {
            let amount = self.amount(takings);
            let when = at(day, self.rng.random_range(9 * 3600..18 * 3600));
            let mut from = None;
            let n = self.rng.random_range(0..client_count);
            if let Earnings::Trade {
                clients,
                next_invoice,
                ..
            } = &mut self.sims[c].income
            {
                *next_invoice += 1;
                from = clients
                    .get(n)
                    .cloned()
                    .map(|p| (p, format!("INV-{next_invoice}")));
            }
            if let Some((from, reference)) = from {
                let credit = Credit {
                    amount,
                    from,
                    reference,
                    code: ProprietaryCode::FasterPayment,
                };
                self.push(when, Event::Income { c, credit });
            }
        }
        for credit in credits {
            let when = at(day, self.rng.random_range(3600..2 * 3600 + 1800));
            self.push(when, Event::Income { c, credit });
        }
        if payday {
            self.push(at(day, 7 * 3600 + 45 * 60), Event::PaydaySaving { c });
        }
        Ok(())
    }

    fn plan_bills(&mut self, c: usize, day: Date, month: Month) {
        let month_num = i32::from(u8::from(month));
        for b in 0..self.sims[c].bills.len() {
            let (due_day, base, pattern) = {
                let bill = &self.sims[c].bills[b];
                (bill.day, bill.base, bill.pattern)
            };
            if day != working_day_after(clamp_day(day.year(), month_num, due_day)) {
                continue;
            }
            let amount = match pattern {
                // Ten instalments, April to January.
                BillPattern::CouncilTax if matches!(month, Month::February | Month::March) => {
                    continue;
                }
                BillPattern::CouncilTax | BillPattern::Monthly => base,
                BillPattern::Energy => {
                    let season = match month {
                        Month::January => 150,
                        Month::February => 140,
                        Month::March => 120,
                        Month::April => 100,
                        Month::May => 80,
                        Month::June | Month::September => 70,
                        Month::July | Month::August => 65,
                        Month::October => 95,
                        Month::November => 120,
                        Month::December => 145,
                    };
                    let wobble = self.rng.random_range(92..=108);
                    Pence(base.0 * season * wobble / 10_000)
                }
            };
            let when = at(day, self.rng.random_range(5 * 3600..6 * 3600 + 1800));
            self.push(when, Event::DirectDebit { c, bill: b, amount });
        }
    }

    /// What the customer has of their own: booked balance less holds, overdraft not counted.
    async fn own_money(&self, account: &AccountId) -> Result<Pence, DemoError> {
        let b = self.ledger.balances(std::slice::from_ref(account)).await?;
        Ok(b.first()
            .map(|b| b.booked - b.pending_debits)
            .unwrap_or(Pence::ZERO))
    }

    async fn save(
        &mut self,
        c: usize,
        pot: usize,
        amount: Pence,
        keep: Pence,
    ) -> Result<(), DemoError> {
        let account = self.sims[c].account.clone();
        let pot_id = self.sims[c].pots[pot].id.clone();
        if amount.0 <= 0 || self.own_money(&account).await? < amount + keep {
            return Ok(());
        }
        afford(
            self.ledger
                .move_between_pot(&account, &pot_id, amount, true, None)
                .await,
        )?;
        Ok(())
    }

    async fn withdraw(&mut self, c: usize, pot: usize, at_most: Pence) -> Result<Pence, DemoError> {
        let account = self.sims[c].account.clone();
        let pot_id = self.sims[c].pots[pot].id.clone();
        let amount = self.ledger.booked_balance(&pot_id).await?.min(at_most);
        if amount.0 <= 0 {
            return Ok(Pence::ZERO);
        }
        self.ledger
            .move_between_pot(&account, &pot_id, amount, false, None)
            .await?;
        Ok(amount)
    }

    async fn execute(&mut self, event: Event) -> Result<(), DemoError> {
        match event {
            Event::Jobs => {
                self.ledger.run_daily_jobs().await?;
            }
            Event::Income {
                c,
                credit:
                    Credit {
                        amount,
                        from,
                        reference,
                        code,
                    },
            } => {
                let account = self.sims[c].account.clone();
                self.ledger
                    .receive_payment(
                        &account,
                        amount,
                        from.counterparty(),
                        Some(reference),
                        code,
                        None,
                    )
                    .await?;
                if let Earnings::Trade {
                    set_aside_percent, ..
                } = self.sims[c].income
                {
                    let when = self.clock.now() + Duration::minutes(2);
                    self.push(
                        when,
                        Event::TaxSave {
                            c,
                            amount: pct(amount, set_aside_percent),
                        },
                    );
                }
            }
            Event::PaydaySaving { c } => {
                for pot in 0..self.sims[c].pots.len() {
                    let (role, goal, id) = {
                        let p = &self.sims[c].pots[pot];
                        (p.role, p.goal, p.id.clone())
                    };
                    let monthly = match role {
                        PotRole::Save { monthly } | PotRole::Goal { monthly, .. } => monthly,
                        _ => continue,
                    };
                    if let Some(goal) = goal {
                        let have = self.ledger.booked_balance(&id).await?;
                        if have >= goal {
                            continue;
                        }
                    }
                    self.save(c, pot, monthly, Pence::from_pounds(400)).await?;
                }
                self.sweep_surplus(c).await?;
            }
            Event::DirectDebit { c, bill, amount } => {
                let mandate = self.sims[c].bills[bill].mandate.clone();
                // An unpaid direct debit is returned to the originator; the demo just skips it.
                afford(
                    self.ledger
                        .collect_direct_debit(&mandate, amount, None)
                        .await,
                )?;
            }
            Event::Card {
                c,
                shop,
                amount,
                essential,
            } => self.card(c, shop, amount, essential).await?,
            Event::Settle { txn, amount } => {
                self.ledger.settle_card(&txn, amount).await?;
            }
            Event::Release { txn } => self.ledger.release_card(&txn).await?,
            Event::RoundUps { c } => {
                if let Some(pot) = self.pot_with(c, |r| matches!(r, PotRole::RoundUps)) {
                    let amount = self.pence(300, 1_500);
                    self.save(c, pot, amount, Pence::from_pounds(150)).await?;
                }
            }
            Event::TopUp { c } => {
                let account = self.sims[c].account.clone();
                let own = self.own_money(&account).await?;
                if own.0 < 0 {
                    let need = -own + self.pounds(50, 200);
                    let mut left = need;
                    for pot in 0..self.sims[c].pots.len() {
                        if left.0 <= 0 {
                            break;
                        }
                        if matches!(
                            self.sims[c].pots[pot].role,
                            PotRole::Save { .. } | PotRole::RoundUps
                        ) {
                            left = left - self.withdraw(c, pot, left).await?;
                        }
                    }
                }
            }
            Event::GoalSpend { c, pot } => {
                let PotRole::Goal {
                    spend: Some((_, shops)),
                    ..
                } = self.sims[c].pots[pot].role
                else {
                    return Ok(());
                };
                let got = self.withdraw(c, pot, Pence(i64::MAX)).await?;
                if got.0 > 0 {
                    let now = self.clock.now();
                    for _ in 0..self.rng.random_range(2..=4) {
                        let shop = self.pick(shops);
                        let amount = match shop.settle {
                            Settle::Hold(hold) => Pence(hold),
                            _ => self.pence(shop.min, shop.max),
                        };
                        let when = now
                            + Duration::days(self.rng.random_range(0..=6))
                            + Duration::minutes(self.rng.random_range(30..600));
                        self.push(
                            when,
                            Event::Card {
                                c,
                                shop,
                                amount,
                                essential: false,
                            },
                        );
                    }
                }
            }
            Event::TaxSave { c, amount } => {
                if let Some(pot) = self.pot_with(c, |r| matches!(r, PotRole::Tax)) {
                    self.save(c, pot, amount, Pence::from_pounds(100)).await?;
                }
            }
            Event::TaxPayment { c } => {
                let (Some(pot), Earnings::Trade { hmrc, utr, .. }) = (
                    self.pot_with(c, |r| matches!(r, PotRole::Tax)),
                    &self.sims[c].income,
                ) else {
                    return Ok(());
                };
                let (hmrc, utr) = (hmrc.clone(), utr.clone());
                let pot_id = self.sims[c].pots[pot].id.clone();
                let saved = self.ledger.booked_balance(&pot_id).await?;
                let bill = Pence::from_pounds(pct(saved, 70).0 / 100);
                let got = self.withdraw(c, pot, bill).await?;
                if got.0 > 0 {
                    let account = self.sims[c].account.clone();
                    afford(
                        self.ledger
                            .send_payment(
                                &account,
                                &hmrc.creditor(),
                                got,
                                &utr,
                                ProprietaryCode::FasterPayment,
                                None,
                            )
                            .await,
                    )?;
                }
            }
            Event::PayFriend {
                c,
                friend,
                amount,
                reference,
            } => {
                let account = self.sims[c].account.clone();
                if self.own_money(&account).await? >= amount + Pence::from_pounds(50) {
                    let to = self.sims[c].friends[friend].creditor();
                    afford(
                        self.ledger
                            .send_payment(
                                &account,
                                &to,
                                amount,
                                reference,
                                ProprietaryCode::FasterPayment,
                                None,
                            )
                            .await,
                    )?;
                }
            }
            Event::FromFriend {
                c,
                friend,
                amount,
                reference,
            } => {
                let account = self.sims[c].account.clone();
                let from = self.sims[c].friends[friend].counterparty();
                self.ledger
                    .receive_payment(
                        &account,
                        amount,
                        from,
                        Some(reference.to_owned()),
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await?;
            }
            Event::Schedule {
                c,
                payment:
                    Booking {
                        execute_on,
                        amount,
                        reference,
                        to,
                    },
            } => {
                let account = self.sims[c].account.clone();
                self.ledger
                    .add_scheduled_payment(NewScheduledPayment {
                        account,
                        execute_on,
                        amount,
                        reference,
                        creditor_name: to.name.clone(),
                        creditor: to.ident,
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// Whatever is left over beyond a month's needs goes to savings, as a careful person
    /// (or an app's "save the rest" rule) would do; otherwise current accounts balloon.
    async fn sweep_surplus(&mut self, c: usize) -> Result<(), DemoError> {
        let keep = match &self.sims[c].income {
            Earnings::Salary { net, .. } => *net + Pence::from_pounds(700),
            Earnings::Pension { .. } => Pence::from_pounds(3_000),
            Earnings::Trade { .. } => Pence::from_pounds(6_000),
        };
        let Some(pot) = self.pot_with(c, |r| {
            matches!(r, PotRole::Save { .. } | PotRole::Goal { spend: None, .. })
        }) else {
            return Ok(());
        };
        let account = self.sims[c].account.clone();
        let spare = self.own_money(&account).await? - keep;
        // Round pounds, like a person moving money by hand.
        let spare = Pence::from_pounds(spare.0 / 10_000 * 100);
        if spare.0 > 0 {
            self.save(c, pot, spare, keep).await?;
        }
        Ok(())
    }

    fn pot_with(&self, c: usize, want: impl Fn(PotRole) -> bool) -> Option<usize> {
        self.sims[c].pots.iter().position(|p| want(p.role))
    }

    async fn card(
        &mut self,
        c: usize,
        shop: &'static Shop,
        amount: Pence,
        essential: bool,
    ) -> Result<(), DemoError> {
        let account = self.sims[c].account.clone();
        // Treats wait for payday; groceries and the commute go on the overdraft if they must.
        if !essential && self.own_money(&account).await? < amount + Pence::from_pounds(20) {
            return Ok(());
        }
        let merchant = Merchant {
            name: shop.name.to_owned(),
            category_code: shop.mcc.to_owned(),
        };
        let Some(txn) = afford(self.ledger.authorise_card(&account, amount, merchant).await)?
        else {
            return Ok(());
        };
        let settled = match shop.settle {
            Settle::Exact | Settle::Cancellable => amount,
            Settle::Tip => {
                let tip = *self.pick(&[0, 0, 10, 10, 12]);
                amount + pct(amount, tip)
            }
            Settle::Estimate => pct(amount, self.rng.random_range(88..=115)),
            Settle::Hold(hold) => self.pence(hold * 35 / 100, hold * 90 / 100),
        };
        let now = self.clock.now();
        let when = at(
            now.date() + Duration::days(self.rng.random_range(1..=3)),
            self.rng.random_range(2 * 3600..7 * 3600),
        );
        let cancelled = matches!(shop.settle, Settle::Cancellable) && self.rng.random_bool(0.04);
        if cancelled {
            self.push(when, Event::Release { txn });
        } else {
            self.push(
                when,
                Event::Settle {
                    txn,
                    amount: settled.max(Pence(1)),
                },
            );
        }
        Ok(())
    }
}
