//! The `larder` binary: `larder [config-file] [--directive value ...]`, and the offline
//! checks `larder check-rdb FILE` and `larder check-aof [--fix] FILE`.

#[global_allocator]
static GLOBAL: larder::alloc::CountingJemalloc = larder::alloc::CountingJemalloc;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some(sub @ ("check-rdb" | "check-aof")) => std::process::exit(larder::persist::check::main(sub, &argv[1..])),
        _ => std::process::exit(larder::server::run(&argv)),
    }
}
