/*
 * net.h - opening nng endpoints, plain or TLS, the same way on both sides.
 *
 * URLs are nng's: tcp://HOST:PORT, ipc:///path, and tls+tcp://HOST:PORT
 * for TLS (TLS 1.2 or later, through nng's mbedtls engine). The server
 * presents a certificate and key (PEM files); the client verifies it
 * against a CA file and the URL's host name.
 */
#ifndef ROVE_NET_H
#define ROVE_NET_H

#include <nng/nng.h>
#include <stdbool.h>

/* Largest PEM file read (certificate, key or CA chain). */
#define ROVE_MAX_PEM_BYTES (64u * 1024u)

bool rove_net_is_tls(const char *url);

/* Starts listening on url; cert_file/key_file are required for TLS and
 * ignored otherwise. Errors are logged; returns a rove error. */
int rove_net_listen(nng_socket sock, const char *url, const char *cert_file, const char *key_file);

/* Dials url (blocking until connected or refused); ca_file is required
 * for TLS. Returns ROVE_EUNREACH when the server cannot be reached,
 * ROVE_EINVAL for a bad URL or TLS setup. */
int rove_net_dial(nng_socket sock, const char *url, const char *ca_file);

#endif
