/* version.h — the tool's version, recorded in every results file. */
#ifndef LAZYSWEEP_VERSION_H
#define LAZYSWEEP_VERSION_H
#define LS_VERSION "0.1.0"
#endif
