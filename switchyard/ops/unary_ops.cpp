// Elementwise unary ops with CPU and Meta kernels.
