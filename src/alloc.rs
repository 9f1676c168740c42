//! The memory allocator of tree-sitter's C core: mimalloc. tree-sitter allocates and frees a
//! node at a time while it parses and edits trees, and glibc's allocator spends a fifth of an
//! incremental reparse in `malloc` and `free`; mimalloc's per-thread pages cost a fraction of
//! that. The Rust code keeps the system allocator: with mimalloc the completion path was no
//! faster and the server's peak memory grew by a fifth.
//!
//! ```
//! // SAFETY: no tree-sitter object exists yet in this process.
//! unsafe { augur::alloc::use_mimalloc_for_tree_sitter() };
//! let tree = augur::syntax::parse(augur::syntax::Language::Rust, "fn a() {}").unwrap();
//! assert!(!tree.root_node().has_error());
//! ```

use std::ffi::c_void;
use std::sync::Once;

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_zalloc};

/// `calloc` on mimalloc: zeroed memory for `count` items of `size` bytes, null on overflow.
unsafe extern "C" fn mi_calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        // SAFETY: `mi_zalloc` accepts any size and returns null when it cannot allocate.
        Some(bytes) => unsafe { mi_zalloc(bytes) },
        None => std::ptr::null_mut(),
    }
}

/// Makes tree-sitter allocate with mimalloc. Later calls do nothing.
///
/// # Safety
///
/// No tree-sitter parser, tree or query may exist yet in the process (call it first thing in
/// `main`): memory tree-sitter took from the C allocator before would be freed by mimalloc.
pub unsafe fn use_mimalloc_for_tree_sitter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the four functions are mimalloc's, which return memory aligned as `malloc`'s
        // and null only when out of memory; the `Once` makes this the only call, and the caller
        // ensures that no tree-sitter object exists yet.
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: mi_malloc,
                calloc: mi_calloc,
                realloc: mi_realloc,
                free: mi_free,
            }));
        }
    });
}
