// The result dtype of mixed-type operands.
