"""`supportwatch doctor`: pure checks over what was read of trails and a stack (the reading is
supportwatch.aws.inspection)."""
