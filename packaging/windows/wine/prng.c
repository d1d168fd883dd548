/* ProcessPrng for Wine 8, which lacks it (Windows 10 has it): the Go runtime
 * (1.22 and later) takes its random bytes from bcryptprimitives.dll's
 * ProcessPrng. This fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036). Only for running the Windows build under Wine in
 * tests (make test-windows); nothing ships it. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
