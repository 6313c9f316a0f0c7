/*
 * batch_io: batched datagram I/O for the bonding data plane (Linux, plain N-API C).
 *
 * Why: node:dgram costs one libuv request and one JS->C++ crossing per datagram and has no
 * sendmmsg/recvmmsg; a TUN fd written with fs.writeSync costs one crossing per packet. Here one
 * call moves a whole batch:
 *
 *   udpOpen(family, address, port, flags, rcvbuf, sndbuf) -> [fd, boundPort]
 *   udpConnect(fd, family, address, port)
 *   sendBatch(fd, data, offsets, lengths, start, count, addrs|null) -> sent   sendmmsg(2)
 *   recvBatch(fd, slots, slotSize, count, lengths, addrs|null)      -> got    recvmmsg(2)
 *   writeBatch(fd, data, offsets, lengths, start, count)            -> written  write(2) loop
 *   readBatch(fd, slots, slotSize, count, lengths)                  -> got    read(2) loop
 *   pathMtu(fd) -> IP_MTU / IPV6_MTU of a connected socket
 *   close(fd)
 *   watch(fd, callback) -> handle   readiness on Node's own event loop (uv_poll_t):
 *   unwatch(handle)                 callback(status, events) while fd is readable
 *
 * Why watch(): the `epoll` package runs epoll_wait on a watcher thread that reports ONE event
 * per round trip (semaphore, uv_async_send, wake the loop, post the semaphore): two thread
 * handoffs per readiness on every hop of a packet, and readiness of several fds serialised
 * through that one slot. uv_poll_t puts the fd in the loop's own epoll set: the callback runs
 * in the same loop iteration that saw it readable, with the others.
 *
 * `data` is one Uint8Array (offsets into it) or an Array of Uint8Arrays (offsets[i] into
 * data[i]). Nothing is allocated per call: every array comes from the caller. EAGAIN ends a
 * batch early (the count says how far it got) and never throws; any other errno throws an Error
 * with `code` (e.g. "EMSGSIZE"), `errno`, `syscall` and `index` (the entry that failed).
 *
 * Address slots (ADDR_SLOT_BYTES = 20 per entry, shared with batch-udp.ts):
 *   [0..15] address (IPv4 in [0..3])  [16..17] port, big-endian  [18] family 4|6  [19] 0
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH_MAX 1024
#define ADDR_SLOT_BYTES 20
#define FLAG_DONT_FRAGMENT 1u
#define FLAG_V6ONLY 2u

#define CHECK(call)                                                                              \
  do {                                                                                           \
    if ((call) != napi_ok) return throw_message(env, "EINVAL", "batch_io: bad argument");        \
  } while (0)

static napi_value throw_message(napi_env env, const char *code, const char *message) {
  napi_throw_type_error(env, code, message);
  return NULL;
}

static napi_value throw_named(napi_env env, const char *name, const char *message, int errno_value, const char *syscall, int64_t index);

/* Throws an Error carrying errno like Node's own system errors. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, int64_t index) {
  char message[160];
  const char *name = NULL;
  switch (err) {
#define E(x) case x: name = #x; break;
    E(EAGAIN) E(EBADF) E(EINVAL) E(EMSGSIZE) E(ECONNREFUSED) E(ENETUNREACH) E(EHOSTUNREACH)
    E(EADDRINUSE) E(EADDRNOTAVAIL) E(EACCES) E(EPERM) E(ENOBUFS) E(EIO) E(ENOTCONN) E(EDESTADDRREQ)
    E(EAFNOSUPPORT) E(ENOTSOCK) E(EFAULT) E(ENOMEM) E(EBADFD) E(ENXIO) E(ENODEV) E(ENETDOWN)
    E(EPROTO) E(EOPNOTSUPP) E(EISCONN) E(ENOPROTOOPT)
#undef E
    default: name = "EUNKNOWN";
  }
  snprintf(message, sizeof message, "%s: %s (%s)", syscall, strerror(err), name);
  return throw_named(env, name, message, -err, syscall, index);
}

/* Throws an Error with `code` = name, `errno`, `syscall` and `index` (the entry that failed). */
static napi_value throw_named(napi_env env, const char *name, const char *message, int errno_value, const char *syscall, int64_t index) {
  napi_value msg, error, value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "code", value);
  napi_create_int32(env, errno_value, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_int64(env, index, &value);
  napi_set_named_property(env, error, "index", value);
  napi_throw(env, error);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/* Bytes of any TypedArray (or Buffer). Returns 0 when `v` is not one. */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t count, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &count, &ptr, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array) return 0;
  *data = ptr;
  *length = count;
  return 1;
}

static int get_u32s(napi_env env, napi_value v, uint32_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t count, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &count, &ptr, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint32_array) return 0;
  *data = ptr;
  *length = count;
  return 1;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

/* Fills a sockaddr from family + textual address + port. Returns its length or 0. */
static socklen_t make_sockaddr(int family, const char *address, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) return 0;
    return sizeof *sin;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, address, &sin6->sin6_addr) != 1) return 0;
  return sizeof *sin6;
}

/* Packed address slot -> sockaddr (see header). Returns its length or 0 for a bad family. */
static socklen_t slot_to_sockaddr(const uint8_t *slot, struct sockaddr_storage *ss) {
  uint16_t port = (uint16_t)((slot[16] << 8) | slot[17]);
  if (slot[18] == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    memcpy(&sin->sin_addr, slot, 4);
    return sizeof *sin;
  }
  if (slot[18] == 6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    memset(sin6, 0, sizeof *sin6);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, slot, 16);
    return sizeof *sin6;
  }
  return 0;
}

static void sockaddr_to_slot(const struct sockaddr_storage *ss, uint8_t *slot) {
  memset(slot, 0, ADDR_SLOT_BYTES);
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    uint16_t port = ntohs(sin->sin_port);
    memcpy(slot, &sin->sin_addr, 4);
    slot[16] = (uint8_t)(port >> 8);
    slot[17] = (uint8_t)port;
    slot[18] = 4;
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    uint16_t port = ntohs(sin6->sin6_port);
    memcpy(slot, &sin6->sin6_addr, 16);
    slot[16] = (uint8_t)(port >> 8);
    slot[17] = (uint8_t)port;
    slot[18] = 6;
  }
}

/* udpOpen(family, address, port, flags, rcvbuf, sndbuf) -> [fd, boundPort] */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t family, port, flags, rcvbuf, sndbuf;
  char address[64];
  size_t address_length;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !get_i32(env, argv[0], &family) || !get_i32(env, argv[2], &port) || !get_i32(env, argv[3], &flags) ||
      !get_i32(env, argv[4], &rcvbuf) || !get_i32(env, argv[5], &sndbuf) ||
      napi_get_value_string_utf8(env, argv[1], address, sizeof address, &address_length) != napi_ok) {
    return throw_message(env, "EINVAL", "udpOpen(family, address, port, flags, rcvbuf, sndbuf): bad argument");
  }
  if ((family != 4 && family != 6) || port < 0 || port > 65535) return throw_message(env, "EINVAL", "udpOpen: family must be 4|6, port 0..65535");
  struct sockaddr_storage ss;
  socklen_t length = make_sockaddr(family, address, port, &ss);
  if (length == 0) return throw_message(env, "EINVAL", "udpOpen: address is not an IP address of the family");
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", -1);
  int one = 1;
  if (family == 6 && (flags & FLAG_V6ONLY) && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) goto fail_setsockopt;
  if (flags & FLAG_DONT_FRAGMENT) {
    int mode = family == 4 ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
    int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof mode)
                         : setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode, sizeof mode);
    if (rc != 0) goto fail_setsockopt;
  }
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) goto fail_setsockopt;
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0) goto fail_setsockopt;
  if (bind(fd, (struct sockaddr *)&ss, length) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind", -1);
  }
  socklen_t got = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &got) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "getsockname", -1);
  }
  int bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
  napi_value out; /* cold path: one small array per socket */
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, fd));
  napi_set_element(env, out, 1, make_int(env, bound));
  return out;
fail_setsockopt: {
  int err = errno;
  close(fd);
  return throw_errno(env, err, "setsockopt", -1);
}
}

/* udpConnect(fd, family, address, port) */
static napi_value udp_connect(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, family, port;
  char address[64];
  size_t address_length;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &family) || !get_i32(env, argv[3], &port) ||
      napi_get_value_string_utf8(env, argv[2], address, sizeof address, &address_length) != napi_ok) {
    return throw_message(env, "EINVAL", "udpConnect(fd, family, address, port): bad argument");
  }
  struct sockaddr_storage ss;
  socklen_t length = (family == 4 || family == 6) && port >= 0 && port <= 65535 ? make_sockaddr(family, address, port, &ss) : 0;
  if (length == 0) return throw_message(env, "EINVAL", "udpConnect: address/port is not valid for the family");
  if (connect(fd, (struct sockaddr *)&ss, length) != 0) return throw_errno(env, errno, "connect", -1);
  return NULL;
}

/*
 * Resolves entry i of `data` (one array or an Array of arrays) with offsets/lengths to a pointer
 * and length, checking bounds. Returns 0 (and throws) when out of bounds.
 */
typedef struct {
  int is_array;
  napi_value array;
  uint8_t *base;
  size_t base_length;
} source_t;

static int source_init(napi_env env, napi_value v, source_t *src) {
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  src->is_array = is_array;
  src->array = v;
  if (is_array) return 1;
  return get_bytes(env, v, &src->base, &src->base_length);
}

static int source_entry(napi_env env, source_t *src, uint32_t i, uint32_t offset, uint32_t length, uint8_t **out) {
  uint8_t *base = src->base;
  size_t base_length = src->base_length;
  if (src->is_array) {
    napi_value element;
    if (napi_get_element(env, src->array, i, &element) != napi_ok || !get_bytes(env, element, &base, &base_length)) return 0;
  }
  if ((size_t)offset + length > base_length) return 0;
  *out = base + offset;
  return 1;
}

typedef struct {
  int32_t fd, start, count;
  source_t src;
  uint32_t *offsets, *lengths;
  size_t offsets_length, lengths_length;
} batch_args_t;

/* Common parsing of (fd, data, offsets, lengths, start, count). */
static int parse_batch(napi_env env, napi_value *argv, batch_args_t *a) {
  if (!get_i32(env, argv[0], &a->fd) || !source_init(env, argv[1], &a->src) || !get_u32s(env, argv[2], &a->offsets, &a->offsets_length) ||
      !get_u32s(env, argv[3], &a->lengths, &a->lengths_length) || !get_i32(env, argv[4], &a->start) || !get_i32(env, argv[5], &a->count)) {
    return 0;
  }
  if (a->start < 0 || a->count < 0 || a->count > BATCH_MAX) return 0;
  if ((size_t)a->start + (size_t)a->count > a->offsets_length || (size_t)a->start + (size_t)a->count > a->lengths_length) return 0;
  return 1;
}

/* True when a datagram of `length` bytes cannot fit the connected path MTU (IP_MTU /
 * IPV6_MTU): the likely reason the kernel refused it with DF set (EMSGSIZE). */
static int over_path_mtu(int fd, size_t length) {
  int domain = 0, mtu = 0;
  socklen_t size = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) != 0) return 0;
  size = sizeof mtu;
  int ok = domain == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &size) : getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &size);
  return ok == 0 && mtu > 0 && length + (domain == AF_INET6 ? 48u : 28u) > (size_t)mtu;
}

/* sendBatch(fd, data, offsets, lengths, start, count, addrs|null) -> sent */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  batch_args_t a;
  uint8_t *addrs = NULL;
  size_t addrs_length = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7 || !parse_batch(env, argv, &a)) {
    return throw_message(env, "EINVAL", "sendBatch(fd, data, offsets: Uint32Array, lengths: Uint32Array, start, count <= 1024, addrs): bad argument");
  }
  if (!is_nullish(env, argv[6])) {
    if (!get_bytes(env, argv[6], &addrs, &addrs_length) || addrs_length < ((size_t)a.start + a.count) * ADDR_SLOT_BYTES) {
      return throw_message(env, "EINVAL", "sendBatch: addrs must hold 20 bytes per entry up to start + count");
    }
  }
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  struct sockaddr_in6 names[BATCH_MAX]; /* large enough for sockaddr_in too */
  for (int32_t k = 0; k < a.count; k++) {
    uint32_t i = (uint32_t)(a.start + k);
    uint8_t *p;
    if (!source_entry(env, &a.src, i, a.offsets[i], a.lengths[i], &p)) {
      return throw_message(env, "ERANGE", "sendBatch: an entry's offset + length lies outside its buffer");
    }
    iov[k].iov_base = p;
    iov[k].iov_len = a.lengths[i];
    memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
    if (addrs != NULL) {
      socklen_t len = slot_to_sockaddr(addrs + (size_t)i * ADDR_SLOT_BYTES, (struct sockaddr_storage *)&names[k]);
      if (len == 0) return throw_message(env, "EINVAL", "sendBatch: an address slot has a family other than 4 or 6");
      msgs[k].msg_hdr.msg_name = &names[k];
      msgs[k].msg_hdr.msg_namelen = len;
    }
  }
  int32_t done = 0;
  while (done < a.count) {
    int n = sendmmsg(a.fd, msgs + done, (unsigned)(a.count - done), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return throw_errno(env, errno, "sendmmsg", (int64_t)a.start + done);
    }
    done += n;
    if (done < a.count) {
      /* A short count means entry `done` failed, and sendmmsg(2) drops its errno. A full socket
       * buffer (not writable now) ends the batch like EAGAIN. Otherwise the kernel refused that
       * datagram (a firewall drop, no route, too big): it is reported and skipped, never sent
       * again by a retry of the rest, which would deliver what a lossy path just dropped. */
      struct pollfd p = {.fd = a.fd, .events = POLLOUT, .revents = 0};
      if (poll(&p, 1, 0) != 1 || (p.revents & POLLOUT) == 0) break;
      if (over_path_mtu(a.fd, msgs[done].msg_hdr.msg_iov->iov_len)) return throw_errno(env, EMSGSIZE, "sendmmsg", (int64_t)a.start + done);
      return throw_named(env, "ESENDMMSG", "sendmmsg: the kernel refused this datagram (sendmmsg does not say why)", 0, "sendmmsg", (int64_t)a.start + done);
    }
  }
  return make_int(env, done);
}

/* recvBatch(fd, slots, slotSize, count, lengths, addrs|null) -> received */
static napi_value recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t fd, slot_size, count;
  uint8_t *slots, *addrs = NULL;
  size_t slots_length, addrs_length = 0, lengths_length;
  uint32_t *lengths;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &slots, &slots_length) || !get_i32(env, argv[2], &slot_size) ||
      !get_i32(env, argv[3], &count) || !get_u32s(env, argv[4], &lengths, &lengths_length) || slot_size <= 0 || count < 0 ||
      count > BATCH_MAX || (size_t)slot_size * count > slots_length || (size_t)count > lengths_length) {
    return throw_message(env, "EINVAL", "recvBatch(fd, slots, slotSize, count <= 1024, lengths: Uint32Array, addrs): bad argument or arrays too short");
  }
  if (!is_nullish(env, argv[5]) && (!get_bytes(env, argv[5], &addrs, &addrs_length) || addrs_length < (size_t)count * ADDR_SLOT_BYTES)) {
    return throw_message(env, "EINVAL", "recvBatch: addrs must hold 20 bytes per slot");
  }
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  struct sockaddr_storage names[BATCH_MAX];
  for (int32_t k = 0; k < count; k++) {
    iov[k].iov_base = slots + (size_t)k * slot_size;
    iov[k].iov_len = (size_t)slot_size;
    memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
    if (addrs != NULL) {
      msgs[k].msg_hdr.msg_name = &names[k];
      msgs[k].msg_hdr.msg_namelen = sizeof names[k];
    }
  }
  int n;
  do {
    /* MSG_TRUNC: msg_len is the datagram's real length, so lengths[i] > slotSize flags truncation. */
    n = recvmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT | MSG_TRUNC, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, 0);
    return throw_errno(env, errno, "recvmmsg", 0);
  }
  for (int k = 0; k < n; k++) {
    lengths[k] = msgs[k].msg_len;
    if (addrs != NULL) sockaddr_to_slot(&names[k], addrs + (size_t)k * ADDR_SLOT_BYTES);
  }
  return make_int(env, n);
}

/* writeBatch(fd, data, offsets, lengths, start, count) -> written (one write(2) per packet) */
static napi_value write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  batch_args_t a;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !parse_batch(env, argv, &a)) {
    return throw_message(env, "EINVAL", "writeBatch(fd, data, offsets: Uint32Array, lengths: Uint32Array, start, count <= 1024): bad argument");
  }
  int32_t k = 0;
  while (k < a.count) {
    uint32_t i = (uint32_t)(a.start + k);
    uint8_t *p;
    if (!source_entry(env, &a.src, i, a.offsets[i], a.lengths[i], &p)) {
      return throw_message(env, "ERANGE", "writeBatch: an entry's offset + length lies outside its buffer");
    }
    ssize_t n = write(a.fd, p, a.lengths[i]);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return throw_errno(env, errno, "write", i);
    }
    k++;
  }
  return make_int(env, k);
}

/* readBatch(fd, slots, slotSize, count, lengths) -> read (one read(2) per packet, ends at EAGAIN) */
static napi_value read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, slot_size, count;
  uint8_t *slots;
  size_t slots_length, lengths_length;
  uint32_t *lengths;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &slots, &slots_length) || !get_i32(env, argv[2], &slot_size) ||
      !get_i32(env, argv[3], &count) || !get_u32s(env, argv[4], &lengths, &lengths_length) || slot_size <= 0 || count < 0 ||
      (size_t)slot_size * count > slots_length || (size_t)count > lengths_length) {
    return throw_message(env, "EINVAL", "readBatch(fd, slots, slotSize, count, lengths: Uint32Array): bad argument or arrays too short");
  }
  int32_t k = 0;
  while (k < count) {
    ssize_t n = read(fd, slots + (size_t)k * slot_size, (size_t)slot_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (k > 0) break; /* deliver what we have; the error repeats on the next call */
      return throw_errno(env, errno, "read", k);
    }
    lengths[k++] = (uint32_t)n;
  }
  return make_int(env, k);
}

/* pathMtu(fd) -> the kernel's path MTU of a connected socket (IP_MTU / IPV6_MTU). */
static napi_value path_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, family;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &family)) return throw_message(env, "EINVAL", "pathMtu(fd, family): bad argument");
  int mtu = 0;
  socklen_t len = sizeof mtu;
  int rc = family == 4 ? getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len) : getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);
  if (rc != 0) return throw_errno(env, errno, "getsockopt", -1);
  return make_int(env, mtu);
}

/* close(fd) */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_i32(env, argv[0], &fd)) return throw_message(env, "EINVAL", "close(fd): bad argument");
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", -1);
  return NULL;
}

/* -- readiness on the event loop ------------------------------------------------------------- */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int stopped;
} watcher_t;

static void watcher_closed(uv_handle_t *handle) {
  free(handle->data);
}

/* Stops the poll and releases the JS references; memory goes when libuv has closed the handle. */
static void watcher_stop(watcher_t *w) {
  if (w->stopped) return;
  w->stopped = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  /* the handle object was collected without unwatch(): stop polling a fd nobody reads */
  watcher_stop((watcher_t *)data);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  watcher_t *w = (watcher_t *)handle->data;
  if (w->stopped) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(w->env, &scope) != napi_ok) return;
  napi_value callback, receiver, argv[2], result;
  napi_get_reference_value(w->env, w->callback, &callback);
  napi_get_global(w->env, &receiver); /* make_callback wants an object as `this` */
  napi_create_int32(w->env, status, &argv[0]);
  napi_create_int32(w->env, events, &argv[1]);
  /* make_callback: process.nextTick and promise jobs run when it returns, as after any I/O */
  napi_make_callback(w->env, w->context, receiver, callback, 2, argv, &result);
  napi_close_handle_scope(w->env, scope);
  /* libuv stops a poll handle on POLLERR (status UV_EBADF). On a UDP socket that is a pending
   * ICMP error the next recvmmsg reports and clears, not the end: watch again unless the
   * callback unwatched (a TUN device that failed closes itself). */
  if (status < 0 && !w->stopped) uv_poll_start(&w->poll, UV_READABLE, on_readable);
}

/* watch(fd, callback(status, events)) -> handle */
static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  napi_valuetype type;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_message(env, "EINVAL", "watch(fd, callback): fd must be a non-negative integer");
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) return throw_message(env, "EINVAL", "watch(fd, callback): callback must be a function");
  uv_loop_t *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = (watcher_t *)calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "watch", -1);
  int err = uv_poll_init(loop, &w->poll, fd);
  if (err != 0) {
    free(w);
    return throw_errno(env, -err, "uv_poll_init", -1);
  }
  w->poll.data = w;
  w->env = env;
  napi_value name, handle;
  napi_create_string_utf8(env, "edgebox.links.readable", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &handle);
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok || napi_async_init(env, handle, name, &w->context) != napi_ok) {
    uv_close((uv_handle_t *)&w->poll, watcher_closed);
    return throw_message(env, "EINVAL", "watch: cannot keep the callback");
  }
  err = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (err != 0) {
    watcher_stop(w);
    return throw_errno(env, -err, "uv_poll_start", -1);
  }
  napi_wrap(env, handle, w, watcher_finalize, NULL, NULL);
  return handle;
}

/* unwatch(handle): stops the readiness callbacks; safe to call twice. */
static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_remove_wrap(env, argv[0], &data) != napi_ok || data == NULL) return NULL; /* already unwatched */
  watcher_stop((watcher_t *)data);
  return NULL;
}


static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"udpConnect", NULL, udp_connect, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"recvBatch", NULL, recv_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"writeBatch", NULL, write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readBatch", NULL, read_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pathMtu", NULL, path_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watch", NULL, watch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unwatch", NULL, unwatch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value max;
  napi_create_int32(env, BATCH_MAX, &max);
  napi_set_named_property(env, exports, "BATCH_MAX", max);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
