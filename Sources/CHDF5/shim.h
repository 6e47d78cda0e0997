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

/* ---- Added for HDF5Store (error reporting, variable-length strings, object introspection) ---- */
static inline hid_t    chdf5_e_default(void)      { return H5E_DEFAULT; }
static inline size_t   chdf5_t_variable(void)     { return H5T_VARIABLE; }
static inline hid_t    chdf5_native_int8(void)    { return H5T_NATIVE_INT8; }
static inline hid_t    chdf5_std_i64le(void)      { return H5T_STD_I64LE; }
static inline hid_t    chdf5_std_i32le(void)      { return H5T_STD_I32LE; }
static inline hid_t    chdf5_ieee_f32le(void)     { return H5T_IEEE_F32LE; }
static inline hid_t    chdf5_ieee_f64le(void)     { return H5T_IEEE_F64LE; }

/* Number of attributes attached to an open object (H5Oget_info's signature differs across 1.10/1.12/1.14). */
static inline int chdf5_attr_count(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#endif
    return (int)info.num_attrs;
}

/* Copies the most specific message of the current thread's HDF5 error stack into buf ("" when empty),
   then clears the stack. */
typedef struct { char *buf; size_t len; int found; } chdf5__err_ctx;
static inline herr_t chdf5__err_walk(unsigned n, const H5E_error2_t *err, void *data) {
    chdf5__err_ctx *ctx = (chdf5__err_ctx *)data;
    (void)n;
    if (!ctx->found && err && err->desc) {
        snprintf(ctx->buf, ctx->len, "%s", err->desc);
        ctx->found = 1;
    }
    return 0;
}
static inline void chdf5_take_error_message(char *buf, size_t len) {
    chdf5__err_ctx ctx = { buf, len, 0 };
    if (len > 0) buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, chdf5__err_walk, &ctx);
    H5Eclear2(H5E_DEFAULT);
}
