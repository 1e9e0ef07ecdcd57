/* mmapFile(path): the whole file as an external ArrayBuffer over a private mapping, unmapped by the
 * buffer's finalizer. MAP_PRIVATE with PROT_WRITE is copy-on-write: the file is never modified, and
 * a stray write through a typed array copies one page instead of crashing the process. */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *path, const char *what, int err) {
  char msg[1200];
  snprintf(msg, sizeof msg, "mmapFile: cannot %s %s: %s", what, path, strerror(err));
  napi_throw_error(env, err == ENOENT ? "ENOENT" : "MMAP_FAILED", msg);
  return NULL;
}

napi_value dl_mmap_file(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[1024];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1) {
    napi_throw_type_error(env, "MMAP_FAILED", "mmapFile: expected a path string shorter than 1023 bytes");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(env, path, "open", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) { int e = errno; close(fd); return fail(env, path, "stat", e); }
  if (!S_ISREG(st.st_mode)) { close(fd); return fail(env, path, "map (not a regular file)", EINVAL); }
  napi_value result;
  size_t size = (size_t)st.st_size;
  if (size == 0) {
    close(fd);
    void *unused;
    if (napi_create_arraybuffer(env, 0, &unused, &result) != napi_ok) return NULL;
    return result;
  }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int e = errno;
  close(fd); /* the mapping keeps the file alive */
  if (p == MAP_FAILED) return fail(env, path, "mmap", e);
  if (napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &result) != napi_ok) {
    munmap(p, size);
    napi_throw_error(env, "MMAP_FAILED", "mmapFile: external ArrayBuffers are not allowed in this runtime");
    return NULL;
  }
  return result;
}

/* mmapRange(fd, offset, length): bytes [offset, offset + length) of an open file as an external
 * ArrayBuffer over a private mapping (same protection as mmapFile). mmap needs a page-aligned file
 * offset, so the mapping starts at the page below `offset` and the buffer begins inside it; the
 * finalizer unmaps the whole mapping. This is how files over 4 GiB — more than one ArrayBuffer may
 * hold — are mapped: one buffer per tensor. */
typedef struct { void *base; size_t size; } mapping;

static void unmap_range(napi_env env, void *data, void *hint) {
  (void)env; (void)data;
  mapping *m = hint;
  munmap(m->base, m->size);
  free(m);
}

napi_value dl_mmap_range(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  int64_t offset = -1, length = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || fd < 0 || offset < 0 || length < 0) {
    napi_throw_type_error(env, "MMAP_FAILED", "mmapRange: expected (fd, offset, length) with non-negative integers");
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) { char msg[200]; snprintf(msg, sizeof msg, "mmapRange: cannot stat fd %d: %s", fd, strerror(errno)); napi_throw_error(env, "MMAP_FAILED", msg); return NULL; }
  if (!S_ISREG(st.st_mode) || offset + length > (int64_t)st.st_size) {
    char msg[200];
    snprintf(msg, sizeof msg, "mmapRange: bytes [%lld, %lld) are not inside the %lld-byte regular file behind fd %d",
             (long long)offset, (long long)(offset + length), (long long)st.st_size, fd);
    napi_throw_error(env, "MMAP_FAILED", msg);
    return NULL;
  }
  napi_value result;
  if (length == 0) {
    void *unused;
    if (napi_create_arraybuffer(env, 0, &unused, &result) != napi_ok) return NULL;
    return result;
  }
  long page = sysconf(_SC_PAGESIZE);
  int64_t base_off = offset - offset % page;
  size_t size = (size_t)(offset - base_off + length);
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)base_off);
  if (p == MAP_FAILED) {
    char msg[200];
    snprintf(msg, sizeof msg, "mmapRange: mmap of %zu bytes at %lld failed: %s", size, (long long)base_off, strerror(errno));
    napi_throw_error(env, "MMAP_FAILED", msg);
    return NULL;
  }
  mapping *m = malloc(sizeof *m);
  if (!m) { munmap(p, size); napi_throw_error(env, "MMAP_FAILED", "mmapRange: out of memory"); return NULL; }
  m->base = p;
  m->size = size;
  if (napi_create_external_arraybuffer(env, (char *)p + (offset - base_off), (size_t)length, unmap_range, m, &result) != napi_ok) {
    munmap(p, size);
    free(m);
    napi_throw_error(env, "MMAP_FAILED", "mmapRange: cannot create an external ArrayBuffer of this length in this runtime");
    return NULL;
  }
  return result;
}

/* allocLarge(bytes): zeroed memory for a large array as an external ArrayBuffer over an anonymous mapping, aligned to
 * 2 MiB and advised MADV_HUGEPAGE where the kernel has it (Linux; transparent huge pages in "madvise" mode, the common
 * default, back only advised memory with them). An SAE step reads its 128 MiB matrices a row at a time in random
 * order (sparse decode and backward): with 4 KiB pages nearly every row costs a TLB miss. The memory is reported to
 * the JS heap so that dropped buffers are collected in time. */
static void free_large(napi_env env, void *data, void *hint) {
  int64_t adjusted;
  napi_adjust_external_memory(env, -(int64_t)((mapping *)hint)->size, &adjusted);
  unmap_range(env, data, hint);
}

napi_value dl_alloc_large(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double requested = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &requested) != napi_ok || !(requested > 0) || requested > 9.0e15) {
    napi_throw_range_error(env, "BAD_ARGUMENT", "allocLarge: expected a byte count > 0");
    return NULL;
  }
  const size_t huge = (size_t)2 << 20, bytes = (size_t)requested;
  size_t size = bytes + huge; /* room to start at a 2 MiB boundary */
  void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    char msg[200];
    snprintf(msg, sizeof msg, "allocLarge: cannot map %zu bytes: %s", bytes, strerror(errno));
    napi_throw_error(env, "ENOMEM", msg);
    return NULL;
  }
  char *start = (char *)(((uintptr_t)base + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
  madvise(start, bytes, MADV_HUGEPAGE); /* advice only: where it is refused, 4 KiB pages serve */
#endif
  mapping *block = malloc(sizeof *block);
  napi_value result;
  if (!block) { munmap(base, size); napi_throw_error(env, "ENOMEM", "allocLarge: out of memory"); return NULL; }
  block->base = base;
  block->size = size;
  if (napi_create_external_arraybuffer(env, start, bytes, free_large, block, &result) != napi_ok) {
    munmap(base, size);
    free(block);
    napi_throw_error(env, "MMAP_FAILED", "allocLarge: external ArrayBuffers are not allowed in this runtime");
    return NULL;
  }
  int64_t adjusted;
  napi_adjust_external_memory(env, (int64_t)size, &adjusted);
  return result;
}
