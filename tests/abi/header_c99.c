/* The public header must compile alone as strict C99. */
#include <opencim/cimfs.h>
int opencim_header_c99_ok(void) { return (int)sizeof(CIMFS_FILE_METADATA); }
