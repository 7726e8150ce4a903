// The migrations are embedded at compile time (`sqlx::migrate!`): rebuild when any changes or
// a new one appears, or a warm build cache would run yesterday's schema.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
