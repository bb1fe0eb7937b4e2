//! The iframe page that the iframe-based transports load.

/// The page, loading the client library from `client_library_url` (which
/// [`SockJsConfig::validate`](crate::SockJsConfig::validate) keeps free of
/// characters that could leave the attribute).
pub(crate) fn page(client_library_url: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n  <script src=\"{client_library_url}\"></script>\n  <script>\n    document.domain = document.domain;\n    SockJS.bootstrap_iframe();\n  </script>\n</head>\n<body>\n  <h2>Don't panic!</h2>\n  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>\n</body>\n</html>"
    )
}
