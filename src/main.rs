//! The `larder` binary: `larder [config-file] [--directive value ...]`.

#[global_allocator]
static GLOBAL: larder::alloc::CountingJemalloc = larder::alloc::CountingJemalloc;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(larder::server::run(&argv));
}
