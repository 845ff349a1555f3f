fn main() {
    mlbench_common::main_with(cnn_burn::run);
}
