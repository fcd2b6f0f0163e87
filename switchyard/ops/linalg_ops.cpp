// Matrix products with CPU (OpenBLAS) and Meta kernels.
