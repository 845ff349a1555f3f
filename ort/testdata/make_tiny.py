"""Writes tiny.onnx, the test model of ort/ (run with the project's Python:
.venv/bin/python ort/testdata/make_tiny.py).

Inputs:  x float32 [n, 3], ids int64 [m]
Outputs: y = x @ W + b  float32 [n, 2]   (W = [[1,2],[3,4],[5,6]], b = [0.5, -0.5])
         ids2 = ids * 2 int64 [m]
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32), "W")
b = numpy_helper.from_array(np.array([0.5, -0.5], dtype=np.float32), "b")
two = numpy_helper.from_array(np.array(2, dtype=np.int64), "two")
graph = helper.make_graph(
    [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["y"]),
        helper.make_node("Mul", ["ids", "two"], ["ids2"]),
    ],
    "tiny",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3]),
        helper.make_tensor_value_info("ids", TensorProto.INT64, ["m"]),
    ],
    [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2]),
        helper.make_tensor_value_info("ids2", TensorProto.INT64, ["m"]),
    ],
    initializer=[W, b, two],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="mlbench")
model.ir_version = 9
onnx.checker.check_model(model)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.onnx"))
