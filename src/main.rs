//! The `augur` binary.

fn main() {
    println!("augur {}", env!("CARGO_PKG_VERSION"));
}
