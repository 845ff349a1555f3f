fn main() {
    mlbench_common::main_with(null::run);
}
