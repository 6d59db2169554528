/*
 * ini_options.h - inih (third_party/inih, the config file's parser) with the
 * options oviod builds it with; include this, not ini.h.  ini.c is built
 * through ini_options.c, so both see the same options.
 *
 *   the handler is told the line number   (for "FILE:LINE: ..." messages)
 *   parsing stops at the first bad line   (a bad file changes nothing)
 *   lines up to 4095 bytes                (a long path fits)
 *   "#" or ";" after a space starts a comment, as at a line's start
 *   no continuation lines: an indented line is a line of its own (inih
 *     would otherwise add it to the value above)
 */
#ifndef OVIO_INI_OPTIONS_H
#define OVIO_INI_OPTIONS_H

#define INI_HANDLER_LINENO          1
#define INI_ALLOW_MULTILINE         0
#define INI_STOP_ON_FIRST_ERROR     1
#define INI_MAX_LINE                4096
#define INI_INLINE_COMMENT_PREFIXES ";#"

#include "../../third_party/inih/ini.h"

#endif
