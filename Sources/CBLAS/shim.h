// OpenBLAS (Debian: libopenblas-dev) provides cblas.h and openblas_set_num_threads;
// LAPACKE comes from liblapacke-dev.
#include <cblas.h>
#include <lapacke.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
