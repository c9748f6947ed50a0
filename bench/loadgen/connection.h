// Connection: one client connection of the load generator: a libuv TCP
// socket, a client SSL over two memory BIOs, and a ResponseReader.
//
// It makes one request at a time and reports each outcome to its Load,
// which decides what comes next (another request, close, or nothing). It
// heap-allocates itself and is deleted in its close callback; the Load
// holds it in an intrusive list until then. Loop thread only.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <string>

#include "bench/loadgen/client_tls.h"
#include "bench/loadgen/response_reader.h"
#include "bench/loadgen/stats.h"

namespace wif::loadgen {

class Load;
struct Slot;

class Connection final : public TicketSink {
 public:
  // Starts connecting; the request (intended to start at intended_ns) goes
  // out as soon as the handshake completes. Returns null after reporting a
  // failure to the load when the connection could not even start.
  static Connection* open(Load& load, Slot& slot, uint64_t intended_ns);

  // Sends the next request on an open, idle connection.
  void send(uint64_t intended_ns);
  // Queues close_notify, flushes it, then closes (a new connection per request).
  void close_gracefully();
  // Closes at once; reports nothing more.
  void abort();
  bool waiting() const { return waiting_; }
  uint64_t deadline_ns() const { return deadline_ns_; }
  Slot* slot() const { return slot_; }

  void take_ticket(SslSessionPtr session) override;

  Connection* next = nullptr;  // the load's list of live connections
  Connection* prev = nullptr;

 private:
  Connection(Load& load, Slot& slot);
  ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* handle);

  void drive();
  bool read_answers();
  void answered(const Response& response);
  void write_request();
  void flush();
  // Detaches from the slot (which then has no connection) and returns it.
  Slot* release_slot();
  void fail(ErrorKind kind);
  void close_handle();

  Load& load_;
  Slot* slot_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  SslPtr ssl_;
  BIO* in_ = nullptr;   // owned by ssl_: ciphertext from the server
  BIO* out_ = nullptr;  // owned by ssl_: ciphertext for the server
  ResponseReader reader_;
  std::string wire_;  // ciphertext handed to the in-flight uv_write
  uint64_t intended_ns_ = 0;
  uint64_t deadline_ns_ = 0;
  bool handshake_done_ = false;
  bool waiting_ = false;  // a request is out, its answer not complete
  bool answered_once_ = false;
  bool write_in_flight_ = false;
  bool close_after_flush_ = false;
  bool closing_ = false;  // uv_close called
};

}  // namespace wif::loadgen
