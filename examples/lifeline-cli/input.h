/* Splitting stdin into lines, with a bound on a line's length so a long
 * line costs no more memory than the largest message that can be sent. */
#ifndef LIFELINE_CLI_INPUT_H
#define LIFELINE_CLI_INPUT_H

#include <stddef.h>

/* One line, without its "\n" or "\r\n". too_long is 1 when the line was
 * longer than the reader's max (line then holds its first max bytes). */
typedef void (*line_fn)(const char *line, size_t len, int too_long, void *user_data);

typedef struct line_reader {
    char *buf;
    size_t len, cap, max;
    size_t dropped;   /* bytes of the current line beyond max */
} line_reader;

/* max: the longest line delivered whole. */
void line_reader_init(line_reader *r, size_t max);

/* Feed n bytes; calls fn for each complete line. Returns 0, or -1 when out
 * of memory. */
int line_reader_feed(line_reader *r, const char *data, size_t n, line_fn fn,
                     void *user_data);

/* End of input: a last line without "\n" is delivered too. */
void line_reader_finish(line_reader *r, line_fn fn, void *user_data);

void line_reader_free(line_reader *r);

#endif
