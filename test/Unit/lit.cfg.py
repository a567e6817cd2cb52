# -*- Python -*-
# lit configuration that runs the GoogleTest binaries (*Tests) of test/Unit.
import lit.formats

config.name = "HYBRID-Unit"
config.suffixes = []
config.test_exec_root = config.unit_test_dir
config.test_source_root = config.unit_test_dir
config.test_format = lit.formats.GoogleTest(".", "Tests")
