//! bascule-testkit's own tests: the kit's harnesses against real programs (Chromium).

mod browser;
