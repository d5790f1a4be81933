//! The strategy-6 binary (roles web, consumer, replay) is built on the library in lib.rs.

fn main() {
    eprintln!("strategy-6: the binary roles are not wired yet; the library (strategy_6) is.");
    std::process::exit(2);
}
