//! Relaxed atomics on generic addresses (shared or global memory).

/// Relaxed atomic add on a u32 in shared or global memory (generic address).
///
/// # Safety
/// `p` is valid and 4-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn atomic_add(p: *mut u32, v: u32) -> u32 {
    // SAFETY: the caller's contract (valid, aligned).
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_add(v, core::sync::atomic::Ordering::Relaxed)
    }
}

/// Relaxed atomic add on a u64.
///
/// # Safety
/// `p` is valid and 8-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn atomic_add_u64(p: *mut u64, v: u64) -> u64 {
    // SAFETY: the caller's contract (valid, 8-aligned).
    unsafe {
        core::sync::atomic::AtomicU64::from_ptr(p)
            .fetch_add(v, core::sync::atomic::Ordering::Relaxed)
    }
}

/// Relaxed atomic min on a u32.
///
/// # Safety
/// `p` is valid and 4-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn atomic_min(p: *mut u32, v: u32) {
    // SAFETY: the caller's contract (valid, aligned).
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_min(v, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Relaxed atomic max on a u32.
///
/// # Safety
/// `p` is valid and 4-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn atomic_max(p: *mut u32, v: u32) {
    // SAFETY: the caller's contract (valid, aligned).
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_max(v, core::sync::atomic::Ordering::Relaxed);
    }
}
