// Views and shape ops.
