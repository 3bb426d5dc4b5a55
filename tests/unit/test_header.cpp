// The public header compiles as C++ (extern "C", no C-only constructs).
#include <lifeline/lifeline.h>

#include <cstring>

int main()
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = "wss://example.invalid/ws";
    if (lifeline_config_validate(&cfg) != LIFELINE_OK)
        return 1;
    return std::strcmp(lifeline_state_name(LIFELINE_STATE_SERVER_DOWN), "server_down") == 0 ? 0 : 1;
}
