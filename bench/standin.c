/* The order workload's exchange stand-in, in C: the server of bench/standin.py, answering the
 * same inputs with the same frames, at the cost of its system calls alone.
 *
 * bench.standin builds it with the machine's C compiler and runs it when it can (python -m
 * bench.standin); the Python server is the fallback and the reference this one follows. Every
 * round trip of the orders workload is the client's work plus the stand-in's, on one CPU: the
 * Python server spent about 45 microseconds of user time per order, in every row alike.
 *
 * Usage: standin [--port N] [--cpu N]. It prints its URL on one line and stops when its
 * standard input closes. One epoll loop; per connection an RFC 6455 handshake, masked client
 * frames (fragments joined, pings answered, a close echoed, an unmasked frame or a message over
 * 1 MiB closed with 1002), and the answers of bench/standin.py to auth, conf, ping, on,
 * oc_multi and ox_multi. JSON is scanned, not decoded: an object key is compared as written
 * (a key spelled with escapes is not recognised), and the answers copy the request's values
 * as written, where the Python server writes them out again (the same values).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGE (1 << 20)
#define MAX_HANDSHAKE 16384
#define READ_SIZE 65536
#define MAX_DEPTH 1000 /* nesting a message may have (Python's decoders stop near 1,000 too) */
#define FIRST_ORDER_ID 120000000000LL

enum { TEXT = 0x1, BINARY = 0x2, CONTINUATION = 0x0, CLOSE = 0x8, PING = 0x9, PONG = 0xA };

typedef struct {
    char *data;
    size_t length, capacity;
} Buffer;

typedef struct {
    int fd;
    int open; /* the handshake is done */
    int closing; /* end the connection once what is queued is sent */
    int watching_writes;
    Buffer in, out, fragments;
    int fragments_opcode;
} Connection;

typedef struct {
    const char *start;
    size_t length;
} Span; /* a JSON value's text, as written; length 0 when absent */

static long long next_order_id = FIRST_ORDER_ID;
static int epoll_fd;

/* `memory`, or the end of the program if there was none to give. */
static void *allocated(void *memory) {
    if (!memory) {
        perror("standin: out of memory");
        exit(1);
    }
    return memory;
}

static void reserve(Buffer *buffer, size_t more) {
    if (buffer->length + more <= buffer->capacity) return;
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + more) capacity *= 2;
    buffer->data = allocated(realloc(buffer->data, capacity));
    buffer->capacity = capacity;
}

static void append(Buffer *buffer, const void *data, size_t length) {
    reserve(buffer, length);
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
}

static void append_text(Buffer *buffer, const char *text) { append(buffer, text, strlen(text)); }

static void consume(Buffer *buffer, size_t count) {
    memmove(buffer->data, buffer->data + count, buffer->length - count);
    buffer->length -= count;
}

/* -- SHA-1 and base64, for Sec-WebSocket-Accept (RFC 3174, RFC 4648) ------------------------ */

static uint32_t rotate(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

static void sha1(const unsigned char *message, size_t length, unsigned char digest[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t padded = ((length + 8) / 64 + 1) * 64;
    unsigned char *block = allocated(calloc(padded, 1));
    memcpy(block, message, length);
    block[length] = 0x80;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++) block[padded - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t offset = 0; offset < padded; offset += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++) {
            const unsigned char *p = block + offset + 4 * i;
            w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
        for (int i = 16; i < 80; i++) w[i] = rotate(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
            else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
            else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
            else f = b ^ c ^ d, k = 0xCA62C1D6;
            uint32_t t = rotate(a, 5) + f + e + k + w[i];
            e = d, d = c, c = rotate(b, 30), b = a, a = t;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
    }
    free(block);
    for (int i = 0; i < 20; i++) digest[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *data, size_t length, char *out) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t at = 0;
    for (size_t i = 0; i < length; i += 3) {
        uint32_t n = (uint32_t)data[i] << 16 | (i + 1 < length ? (uint32_t)data[i + 1] << 8 : 0)
                     | (i + 2 < length ? data[i + 2] : 0);
        out[at++] = alphabet[n >> 18 & 63];
        out[at++] = alphabet[n >> 12 & 63];
        out[at++] = i + 1 < length ? alphabet[n >> 6 & 63] : '=';
        out[at++] = i + 2 < length ? alphabet[n & 63] : '=';
    }
    out[at] = 0;
}

/* -- frames ---------------------------------------------------------------------------------- */

static void server_frame(Buffer *out, int opcode, const void *payload, size_t length) {
    unsigned char header[10];
    size_t size = 2;
    header[0] = (unsigned char)(0x80 | opcode);
    if (length <= 125) {
        header[1] = (unsigned char)length;
    } else if (length <= 0xFFFF) {
        header[1] = 126, header[2] = (unsigned char)(length >> 8), header[3] = (unsigned char)length;
        size = 4;
    } else {
        header[1] = 127;
        for (int i = 0; i < 8; i++) header[2 + i] = (unsigned char)((uint64_t)length >> (56 - 8 * i));
        size = 10;
    }
    append(out, header, size);
    append(out, payload, length);
}

static void text_frame(Buffer *out, const Buffer *text) { server_frame(out, TEXT, text->data, text->length); }

/* -- JSON scanning --------------------------------------------------------------------------- */

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* The end of the JSON value at p (after leading space), or NULL if none is there. */
static const char *skip_value(const char *p, const char *end, int depth) {
    p = skip_space(p, end);
    if (p >= end || depth > MAX_DEPTH) return NULL;
    if (*p == '"') {
        for (p++; p < end; p++) {
            if (*p == '\\') p++;
            else if (*p == '"') return p + 1;
        }
        return NULL;
    }
    if (*p == '[' || *p == '{') {
        char close = *p == '[' ? ']' : '}';
        int object = *p == '{';
        p = skip_space(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (object) {
                p = skip_value(p, end, depth + 1);
                if (!p) return NULL;
                p = skip_space(p, end);
                if (p >= end || *p != ':') return NULL;
                p++;
            }
            p = skip_value(p, end, depth + 1);
            if (!p) return NULL;
            p = skip_space(p, end);
            if (p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    const char *start = p;
    while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))) p++;
    return p > start ? p : NULL;
}

static int is_string(Span value, const char *text) {
    size_t length = strlen(text);
    return value.length == length + 2 && value.start[0] == '"' && memcmp(value.start + 1, text, length) == 0;
}

/* The value of each of the object's keys named in `names` (NULL-terminated), into `values`;
 * returns 0 if the span is no JSON object. */
static int object_fields(Span object, const char *const *names, Span *values) {
    const char *p = object.start, *end = object.start + object.length;
    for (int i = 0; names[i]; i++) values[i].length = 0;
    if (object.length == 0 || *p != '{') return 0;
    p = skip_space(p + 1, end);
    if (p < end && *p == '}') return 1;
    for (;;) {
        const char *key = skip_space(p, end);
        const char *key_end = skip_value(key, end, 1);
        if (!key_end || *key != '"') return 0;
        p = skip_space(key_end, end);
        if (p >= end || *p != ':') return 0;
        const char *value = skip_space(p + 1, end);
        p = skip_value(value, end, 1);
        if (!p) return 0;
        Span key_span = {key, (size_t)(key_end - key)};
        for (int i = 0; names[i]; i++)
            if (is_string(key_span, names[i])) values[i] = (Span){value, (size_t)(p - value)};
        p = skip_space(p, end);
        if (p < end && *p == '}') return 1;
        if (p >= end || *p != ',') return 0;
        p++;
    }
}

/* The first `count` elements of a JSON array; returns how many there were (at most count), or
 * -1 if the span is no JSON array. */
static int array_elements(Span array, Span *elements, int count) {
    const char *p = array.start, *end = array.start + array.length;
    if (array.length == 0 || *p != '[') return -1;
    p = skip_space(p + 1, end);
    if (p < end && *p == ']') return 0;
    int found = 0;
    for (;;) {
        const char *value = skip_space(p, end);
        p = skip_value(value, end, 1);
        if (!p) return -1;
        if (found < count) elements[found] = (Span){value, (size_t)(p - value)};
        found++;
        p = skip_space(p, end);
        if (p < end && *p == ']') return found < count ? found : count;
        if (p >= end || *p != ',') return -1;
        p++;
    }
}

static void append_value(Buffer *out, Span value, const char *absent) {
    if (value.length) append(out, value.start, value.length);
    else append_text(out, absent);
}

/* A number, or a JSON string holding one, as Python's float() reads it; 0 when absent, null,
 * false or empty (Python's `x or 0`). */
static double number(Span value) {
    char text[64];
    const char *start = value.start;
    size_t length = value.length;
    if (length >= 2 && *start == '"') start++, length -= 2;
    if (length == 0 || length >= sizeof text) return 0;
    memcpy(text, start, length);
    text[length] = 0;
    return strtod(text, NULL);
}

/* A float as Python's repr writes it: the shortest digits that read back the same. */
static void python_float(Buffer *out, double x) {
    char digits[40], text[64];
    int precision;
    for (precision = 1; precision <= 17; precision++) {
        snprintf(digits, sizeof digits, "%.*e", precision - 1, x);
        if (strtod(digits, NULL) == x) break;
    }
    char *e = strchr(digits, 'e');
    int exponent = atoi(e + 1);
    *e = 0;
    char mantissa[24];
    size_t count = 0;
    int negative = digits[0] == '-';
    for (char *p = digits + negative; *p; p++)
        if (*p != '.') mantissa[count++] = *p;
    while (count > 1 && mantissa[count - 1] == '0') count--;
    mantissa[count] = 0;
    size_t at = 0;
    if (negative) text[at++] = '-';
    if (exponent < -4 || exponent >= 16) {
        text[at++] = mantissa[0];
        if (count > 1) {
            text[at++] = '.';
            memcpy(text + at, mantissa + 1, count - 1);
            at += count - 1;
        }
        at += (size_t)snprintf(text + at, sizeof text - at, "e%c%02d", exponent < 0 ? '-' : '+', abs(exponent));
    } else if (exponent < 0) {
        text[at++] = '0', text[at++] = '.';
        for (int i = -1; i > exponent; i--) text[at++] = '0';
        memcpy(text + at, mantissa, count);
        at += count;
    } else {
        for (int i = 0; i <= exponent; i++) text[at++] = (size_t)i < count ? mantissa[i] : '0';
        text[at++] = '.';
        if ((size_t)exponent + 1 < count) {
            memcpy(text + at, mantissa + exponent + 1, count - (size_t)exponent - 1);
            at += count - (size_t)exponent - 1;
        } else {
            text[at++] = '0';
        }
    }
    append(out, text, at);
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void append_integer(Buffer *out, long long value) {
    char text[24];
    append(out, text, (size_t)snprintf(text, sizeof text, "%lld", value));
}

/* -- answers --------------------------------------------------------------------------------- */

/* Where a reply's text is made before it is framed: kept from one message to the next, so an
 * answer allocates nothing once they have grown. */
static Buffer order_text, message_text, amount_text;

static Buffer *emptied(Buffer *buffer) {
    buffer->length = 0;
    return buffer;
}

static void order_reply(Buffer *out, Span request) {
    static const char *const names[] = {"cid", "symbol", "type", "amount", "price", NULL};
    Span fields[5];
    object_fields(request, names, fields);
    double amount = number(fields[3]);
    long long mts = now_ms();
    Buffer *order = emptied(&order_text), *text = emptied(&message_text), *amount_repr = emptied(&amount_text);
    python_float(amount_repr, amount);
    append_text(order, "[");
    append_integer(order, next_order_id++);
    append_text(order, ",null,");
    append_value(order, fields[0], "null");
    append_text(order, ",");
    append_value(order, fields[1], "null");
    for (int i = 0; i < 2; i++) {
        append_text(order, ",");
        append_integer(order, mts);
    }
    for (int i = 0; i < 2; i++) {
        append_text(order, ",");
        append(order, amount_repr->data, amount_repr->length);
    }
    append_text(order, ",");
    append_value(order, fields[2], "null");
    append_text(order, ",null,null,null,0,\"ACTIVE\",null,null,");
    python_float(order, number(fields[4]));
    append_text(order, ",0,null,null,null,null,null,0,0,null,null,null,\"API>BFX\",null,null,null]");

    append_text(text, "[0,\"n\",[");
    append_integer(text, mts);
    append_text(text, ",\"on-req\",null,null,");
    append(text, order->data, order->length);
    append_text(text, ",null,\"SUCCESS\",\"Submitting ");
    Span kind = fields[2];
    if (kind.length && kind.start[0] == '"') {
        for (size_t i = 1; i + 1 < kind.length; i++) {
            char c = kind.start[i], lower = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            append(text, &lower, 1);
        }
    } else {
        append_value(text, kind, "");
    }
    append_text(text, amount > 0 ? " buy order for " : " sell order for ");
    int signed_repr = amount_repr->data[0] == '-'; /* the text of abs(amount): repr without its sign */
    append(text, amount_repr->data + signed_repr, amount_repr->length - (size_t)signed_repr);
    append_text(text, ".\"]]");
    text_frame(out, text);

    emptied(text);
    append_text(text, "[0,\"on\",");
    append(text, order->data, order->length);
    append_text(text, "]");
    text_frame(out, text);
}

static void event_reply(Buffer *out, Span event) {
    static const char *const names[] = {"event", "flags", "cid", NULL};
    Span fields[3];
    if (!object_fields(event, names, fields)) return;
    Buffer *text = emptied(&message_text);
    if (is_string(fields[0], "auth")) {
        static const char *const frames[] = {
            "{\"event\":\"auth\",\"status\":\"OK\",\"chanId\":0,\"userId\":1,\"auth_id\":\"bench-standin\",\"caps\":{}}",
            "[0,\"ps\",[]]", "[0,\"ws\",[]]", "[0,\"os\",[]]",
        };
        for (int i = 0; i < 4; i++) server_frame(out, TEXT, frames[i], strlen(frames[i]));
    } else if (is_string(fields[0], "conf")) {
        append_text(text, "{\"event\":\"conf\",\"status\":\"OK\",\"flags\":");
        append_value(text, fields[1], "0");
        append_text(text, "}");
        text_frame(out, text);
    } else if (is_string(fields[0], "ping")) {
        append_text(text, "{\"event\":\"pong\",\"ts\":");
        append_integer(text, now_ms());
        append_text(text, ",\"cid\":");
        append_value(text, fields[2], "null");
        append_text(text, "}");
        text_frame(out, text);
    }
}

static void answer(Buffer *out, const char *payload, size_t length) {
    const char *end = payload + length, *start = skip_space(payload, end);
    const char *value_end = skip_value(start, end, 0);
    if (!value_end || skip_space(value_end, end) != end) return; /* no JSON: no answer */
    Span message = {start, (size_t)(value_end - start)};
    if (*start == '{') {
        event_reply(out, message);
        return;
    }
    Span elements[4];
    if (array_elements(message, elements, 4) != 4 || elements[0].length != 1 || elements[0].start[0] != '0') return;
    if (is_string(elements[1], "on") && elements[3].start[0] == '{') {
        order_reply(out, elements[3]);
    } else if (is_string(elements[1], "oc_multi") || is_string(elements[1], "ox_multi")) {
        Buffer *text = emptied(&message_text);
        append_text(text, "[0,\"n\",[");
        append_integer(text, now_ms());
        append_text(text, ",\"oc_multi-req\",null,null,[],null,\"SUCCESS\",\"Submitting 0 order cancellations.\"]]");
        text_frame(out, text);
    }
}

/* -- connections ----------------------------------------------------------------------------- */

static void protocol_error(Connection *connection) {
    unsigned char code[2] = {1002 >> 8, 1002 & 0xFF};
    server_frame(&connection->out, CLOSE, code, 2);
    connection->closing = 1;
}

/* Answer every complete frame in the connection's input buffer. */
static void read_frames(Connection *connection) {
    Buffer *in = &connection->in;
    size_t offset = 0;
    while (!connection->closing && in->length - offset >= 2) {
        unsigned char *frame = (unsigned char *)in->data + offset;
        size_t available = in->length - offset, start = 2;
        uint64_t size = frame[1] & 0x7F;
        if (!(frame[1] & 0x80)) {
            protocol_error(connection);
            break;
        }
        if (size == 126) {
            if (available < 4) break;
            size = (uint64_t)frame[2] << 8 | frame[3];
            start = 4;
        } else if (size == 127) {
            if (available < 10) break;
            size = 0;
            for (int i = 0; i < 8; i++) size = size << 8 | frame[2 + i];
            start = 10;
        }
        if (size > MAX_MESSAGE) {
            protocol_error(connection);
            break;
        }
        if (available < start + 4 + size) break;
        unsigned char *mask = frame + start, *payload = frame + start + 4;
        for (uint64_t i = 0; i < size; i++) payload[i] ^= mask[i & 3];
        offset += start + 4 + size;
        int final = frame[0] & 0x80, opcode = frame[0] & 0x0F;
        if (opcode >= CLOSE) {
            if (opcode == PING) {
                server_frame(&connection->out, PONG, payload, size);
            } else if (opcode == CLOSE) {
                server_frame(&connection->out, CLOSE, payload, size < 2 ? size : 2);
                connection->closing = 1;
            }
            continue;
        }
        if (opcode != CONTINUATION) {
            connection->fragments_opcode = opcode;
            connection->fragments.length = 0;
        }
        if (connection->fragments.length + size > MAX_MESSAGE) {
            protocol_error(connection);
            break;
        }
        if (final && connection->fragments.length == 0) { /* a whole message in one frame: answered in place */
            int kind = opcode == CONTINUATION ? connection->fragments_opcode : opcode;
            if (kind == TEXT || kind == BINARY) answer(&connection->out, (char *)payload, size);
            continue;
        }
        append(&connection->fragments, payload, size);
        if (final) {
            if (connection->fragments_opcode == TEXT || connection->fragments_opcode == BINARY)
                answer(&connection->out, connection->fragments.data, connection->fragments.length);
            connection->fragments.length = 0;
        }
    }
    consume(in, offset);
}

static const char *header_value(const char *head, const char *end, const char *name) {
    size_t length = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line < end; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, length) == 0 && line[length] == ':') {
            const char *value = line + length + 1;
            while (*value == ' ' || *value == '\t') value++;
            return value;
        }
    }
    return NULL;
}

static void handshake(Connection *connection) {
    Buffer *in = &connection->in;
    reserve(in, 1);
    in->data[in->length] = 0;
    char *end = strstr(in->data, "\r\n\r\n");
    if (!end) {
        if (in->length > MAX_HANDSHAKE) {
            append_text(&connection->out, "HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n");
            connection->closing = 1;
        }
        return;
    }
    *end = 0;
    const char *key = header_value(in->data, end, "sec-websocket-key");
    const char *upgrade = header_value(in->data, end, "upgrade");
    if (!key || !upgrade || strncasecmp(upgrade, "websocket", 9) != 0 || (upgrade[9] && !strchr(" \t\r", upgrade[9]))) {
        append_text(&connection->out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        connection->closing = 1;
        return;
    }
    const char *key_end = key;
    while (*key_end && *key_end != '\r' && *key_end != ' ' && *key_end != '\t') key_end++;
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t key_length = (size_t)(key_end - key);
    unsigned char *accept_input = allocated(malloc(key_length + sizeof guid)), digest[20];
    memcpy(accept_input, key, key_length);
    memcpy(accept_input + key_length, guid, sizeof guid - 1);
    sha1(accept_input, key_length + sizeof guid - 1, digest);
    free(accept_input);
    char accept[32];
    base64(digest, 20, accept);
    append_text(&connection->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: ");
    append_text(&connection->out, accept);
    append_text(&connection->out, "\r\n\r\n");
    static const char greeting[] = "{\"event\":\"info\",\"version\":2,\"serverId\":\"bench-standin\",\"platform\":{\"status\":1}}";
    server_frame(&connection->out, TEXT, greeting, sizeof greeting - 1);
    connection->open = 1;
    consume(in, (size_t)(end + 4 - in->data));
    read_frames(connection);
}

static void drop(Connection *connection) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
    close(connection->fd);
    free(connection->in.data);
    free(connection->out.data);
    free(connection->fragments.data);
    free(connection);
}

static void watch(Connection *connection, int writes) {
    struct epoll_event event = {.events = EPOLLIN | (writes ? EPOLLOUT : 0), .data.ptr = connection};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, connection->fd, &event);
    connection->watching_writes = writes;
}

/* Send what is queued; returns 0 once the connection is dropped. */
static int flush(Connection *connection) {
    Buffer *out = &connection->out;
    while (out->length) {
        ssize_t sent = send(connection->fd, out->data, out->length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            drop(connection);
            return 0;
        }
        consume(out, (size_t)sent);
    }
    if (out->length) {
        if (!connection->watching_writes) watch(connection, 1);
        return 1;
    }
    if (connection->closing) {
        drop(connection);
        return 0;
    }
    if (connection->watching_writes) watch(connection, 0);
    return 1;
}

static void readable(Connection *connection) {
    reserve(&connection->in, READ_SIZE + 1);
    ssize_t got = recv(connection->fd, connection->in.data + connection->in.length, READ_SIZE, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (got <= 0) {
        drop(connection);
        return;
    }
    connection->in.length += (size_t)got;
    if (connection->closing) return;
    if (connection->open) read_frames(connection);
    else handshake(connection);
    flush(connection);
}

static void accept_connection(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    Connection *connection = allocated(calloc(1, sizeof *connection));
    connection->fd = fd;
    connection->fragments_opcode = TEXT;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = connection};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int main(int argc, char **argv) {
    int port = 0, cpu = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--port") == 0) port = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--cpu") == 0) cpu = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: standin [--port N] [--cpu N]\n");
            return 2;
        }
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            perror("standin: sched_setaffinity");
            return 1;
        }
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 128) != 0
        || getsockname(listener, (struct sockaddr *)&address, &size) != 0) {
        perror("standin: listen");
        return 1;
    }
    epoll_fd = epoll_create1(0);
    static int listener_marker, stdin_marker;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = &listener_marker};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event);
    event.data.ptr = &stdin_marker;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, STDIN_FILENO, &event);
    printf("ws://127.0.0.1:%d/ws/2\n", ntohs(address.sin_port));
    fflush(stdout);
    for (;;) {
        struct epoll_event events[64];
        int ready = epoll_wait(epoll_fd, events, 64, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) {
            perror("standin: epoll_wait");
            return 1;
        }
        for (int i = 0; i < ready; i++) {
            void *what = events[i].data.ptr;
            if (what == &listener_marker) {
                accept_connection(listener);
            } else if (what == &stdin_marker) {
                char discard[4096];
                if (read(STDIN_FILENO, discard, sizeof discard) <= 0) return 0;
            } else if (events[i].events & EPOLLOUT) {
                flush(what);
            } else {
                readable(what);
            }
        }
    }
}
