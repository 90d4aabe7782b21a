#ifndef STUNSCOPE_CPCAP_SHIM_H
#define STUNSCOPE_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#endif
