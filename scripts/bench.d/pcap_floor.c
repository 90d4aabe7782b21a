/* The floor for "how fast can a capture file be read": libpcap's
 * pcap_next_ex over the whole file, touching every byte (a sum) so the
 * reads cannot be optimised away. Used by scripts/bench. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdint.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 64; }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) { fprintf(stderr, "%s\n", err); return 2; }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t packets = 0, bytes = 0, sum = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        packets++;
        bytes += h->caplen;
        for (uint32_t i = 0; i < h->caplen; i++) sum += d[i];
    }
    if (rc == PCAP_ERROR) { fprintf(stderr, "%s\n", pcap_geterr(p)); return 2; }
    printf("%llu packets %llu bytes checksum %llu\n", (unsigned long long)packets,
           (unsigned long long)bytes, (unsigned long long)sum);
    pcap_close(p);
    return 0;
}
