/* Office hours from the settings, for the engine's escalation policy. */
#include <time.h>

#include "handoff/assign.h"
#include "server/server_internal.h"

int srv_office_open(const cfg_t *cfg, long long now)
{
    /* Local time follows TZ, which srv_run() sets once from cfg->timezone
     * (checked by cfg_validate at start). */
    time_t t = (time_t)now;
    struct tm local;
    if (!localtime_r(&t, &local))
        return 0;
    return handoff_office_open(cfg->office_hours, local.tm_wday,
                               local.tm_hour * 60 + local.tm_min);
}
