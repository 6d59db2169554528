/* ini_options.c - builds inih's parser with oviod's options (ini_options.h). */
#include "ini_options.h"

#include "../../third_party/inih/ini.c"
