# Sourced by bench/scale/*.sh (after scripts/pgcluster.sh): their throwaway
# cluster, with huge pages for its shared memory, as
# a production server with a large shared_buffers has them. With 4 KiB pages
# every new backend faults in each page of shared buffers it touches (the
# list pages, the re-ranked rows): on these VMs 32 fresh pgbench clients at
# 10M rows ran at ~55 TPS against 633 with huge pages (same build).
#
#   hugepages_reserve 4GB   # as root: raise vm.nr_hugepages for shared_buffers
#                           # + 10 % + 256 MB (never lowers it); sets HP_WANT
#   hugepages_in_use        # 2 MiB pages in use or reserved now
#   hugepages_restore       # put vm.nr_hugepages back (safe to call twice)
#   scale_cluster_start SB [postgresql.conf lines...]
#                           # all of it: reserve, start with huge_pages = try and
#                           # shared_buffers = SB, export PG*, an EXIT trap that
#                           # stops the cluster and restores; sets HP_USED
# Not root: nothing is reserved; the cluster's huge_pages = try uses whatever is.
HP_OLD="" HP_WANT=0
hugepages_reserve() {
    [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ] || return 0
    local mb
    mb=$(echo "$1" | awk '/GB$/ { print $0 * 1024; next } /MB$/ { print $0 + 0; next } { print 0 }')
    HP_WANT=$(( (mb * 11 / 10 + 256) / 2 ))
    HP_OLD=$(cat /proc/sys/vm/nr_hugepages)
    if [ "$HP_OLD" -lt "$HP_WANT" ]; then echo "$HP_WANT" >/proc/sys/vm/nr_hugepages; fi
}
hugepages_in_use() {
    awk '/^HugePages_(Total|Free|Rsvd):/ { v[$1] = $2 } END { print v["HugePages_Total:"] - v["HugePages_Free:"] + v["HugePages_Rsvd:"] }' /proc/meminfo
}
hugepages_restore() {
    if [ -n "$HP_OLD" ]; then echo "$HP_OLD" >/proc/sys/vm/nr_hugepages; fi
    HP_OLD=""
}
scale_cluster_start() {
    local sb=$1
    shift
    hugepages_reserve "$sb"
    pgcluster_start "huge_pages = try" "shared_buffers = $sb" "$@" >/dev/null || { hugepages_restore; return 1; }
    export PGHOST PGPORT PGUSER
    trap 'pgcluster_stop; hugepages_restore' EXIT
    HP_USED=$(hugepages_in_use)
}
