//! The workspace index never follows a symbolic link out of its root: updates from events,
//! saves and edits of a file whose real path is outside are refused (and what was indexed under
//! that path is dropped), while links that stay inside the root are followed.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;

use augur::index::{
    IndexConfig, IndexError, NoProgress, SearchQuery, UpdateOutcome, WorkspaceIndex,
};
use tokio_util::sync::CancellationToken;

fn has_symbol(index: &WorkspaceIndex, name: &str) -> bool {
    index.commit().unwrap();
    index
        .search(&SearchQuery {
            text: name.replace('_', " "),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .any(|h| h.name == name)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn updates_through_a_link_out_of_the_root_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write(&root.path().join("src/lib.rs"), "pub fn inside_fn() {}\n");
    write(
        &outside.path().join("init.d/x.rs"),
        "pub fn outside_fn() {}\n",
    );
    symlink(outside.path(), root.path().join("etc_link")).unwrap();
    symlink(root.path().join("src"), root.path().join("src_link")).unwrap();
    let index =
        WorkspaceIndex::open_in(root.path(), cache.path(), &IndexConfig::default()).unwrap();
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert!(has_symbol(&index, "inside_fn"));

    let linked = root.path().join("etc_link/init.d/x.rs");
    for outcome in [
        index.update_path(&linked),
        index.update_path(&root.path().join("etc_link")),
        index.update_text(&linked, "pub fn edited_outside_fn() {}\n", Some(2)),
        index.rename_path(&root.path().join("gone.rs"), &linked),
    ] {
        assert!(
            matches!(outcome, Err(IndexError::OutsideRoot(_))),
            "{outcome:?}"
        );
    }
    assert!(!has_symbol(&index, "outside_fn"));
    assert!(!has_symbol(&index, "edited_outside_fn"));

    // A link that stays inside the root is followed.
    write(&root.path().join("src/more.rs"), "pub fn more_fn() {}\n");
    assert_eq!(
        index
            .update_path(&root.path().join("src_link/more.rs"))
            .unwrap(),
        UpdateOutcome::Updated
    );
    assert!(has_symbol(&index, "more_fn"));
}

#[test]
fn a_folder_replaced_by_a_link_out_of_the_root_is_dropped() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write(
        &root.path().join("pkg/mod.rs"),
        "pub fn was_inside_fn() {}\n",
    );
    write(
        &outside.path().join("mod.rs"),
        "pub fn now_outside_fn() {}\n",
    );
    let index =
        WorkspaceIndex::open_in(root.path(), cache.path(), &IndexConfig::default()).unwrap();
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert!(has_symbol(&index, "was_inside_fn"));
    std::fs::remove_dir_all(root.path().join("pkg")).unwrap();
    symlink(outside.path(), root.path().join("pkg")).unwrap();
    assert!(index.update_path(&root.path().join("pkg/mod.rs")).is_err());
    assert!(!has_symbol(&index, "was_inside_fn"));
    assert!(!has_symbol(&index, "now_outside_fn"));
}
