// torch/lib, rpath, libtorch_cuda and the torch version: see ../common/tch_build.rs.
include!("../common/tch_build.rs");
