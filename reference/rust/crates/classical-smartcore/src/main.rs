fn main() {
    mlbench_common::main_with(classical_smartcore::run);
}
