/* The umbrella for the CLifeline module: the installed public header, found
 * through the include path that pkg-config gives (lifeline.pc). */
#include <lifeline/lifeline.h>
