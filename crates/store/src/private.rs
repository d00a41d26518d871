//! Files and folders only the service's own account may use: what the services keep
//! (databases, packages, documents) is created `0600` (files) and `0700` (folders).

use std::path::Path;

/// Creates `dir` and its missing parents for the owner alone (0700); an existing `dir` is
/// made so.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)?;
    set_mode(dir, 0o700)
}

/// Sets a file's or folder's permissions (Unix; elsewhere nothing).
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}
