// HDF5's property-list, access-flag and native-type "constants" are macros that Swift cannot
// import (function-like macros or concurrency-unsafe globals): expose each as a static inline function.
#include <hdf5.h>
#include <hdf5_hl.h>
static inline hid_t    chdf5_p_default(void)      { return H5P_DEFAULT; }
static inline hid_t    chdf5_s_all(void)          { return H5S_ALL; }
static inline unsigned chdf5_f_acc_trunc(void)    { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_f_acc_excl(void)     { return H5F_ACC_EXCL; }
static inline unsigned chdf5_f_acc_rdonly(void)   { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_f_acc_rdwr(void)     { return H5F_ACC_RDWR; }
static inline hid_t    chdf5_native_float(void)   { return H5T_NATIVE_FLOAT; }
static inline hid_t    chdf5_native_double(void)  { return H5T_NATIVE_DOUBLE; }
static inline hid_t    chdf5_native_int32(void)   { return H5T_NATIVE_INT32; }
static inline hid_t    chdf5_native_int64(void)   { return H5T_NATIVE_INT64; }
static inline hid_t    chdf5_native_uint8(void)   { return H5T_NATIVE_UINT8; }
static inline hid_t    chdf5_c_s1(void)           { return H5T_C_S1; }
static inline hid_t    chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t    chdf5_p_link_create(void)  { return H5P_LINK_CREATE; }
static inline hid_t    chdf5_p_file_access(void)  { return H5P_FILE_ACCESS; }
/* Silence HDF5's automatic error-stack printing; the Swift wrapper reports errors itself. */
static inline void     chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
