//! h2ring-loadtest: not yet built (performance issue).
fn main() {
    println!("h2ring-loadtest: not yet built");
}
