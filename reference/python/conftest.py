"""Lets the tests import the reference modules (``import common``) however
pytest is started, e.g. ``python -m pytest reference/python`` from the repo root."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
