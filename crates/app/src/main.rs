fn main() {
    println!("h2ring: not yet serving (the runtime lands with the app issue)");
}
