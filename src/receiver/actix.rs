//! [`VerifiedBody`] and [`VerifiedJson`] as [actix-web](actix_web)
//! extractors: the [`RequestVerifier`] from the app data (as it is, or in
//! `web::Data`, as actix-web's own extractor configurations are found),
//! the request's URI, its payload as a stream.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, ResponseError, web};
use serde::de::DeserializeOwned;

use super::extract::read_verified;
use super::{
    Malformed, RequestVerifier, SignedHead, VerifiedBody, VerifiedJson, VerifyError,
    VerifyRejection,
};

impl ResponseError for VerifyRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        // The same code in actix-web's `http` 0.2.
        actix_web::http::StatusCode::from_u16(self.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }
    // The default `error_response`: the status, and `Display` as a
    // `text/plain; charset=utf-8` body.
}

impl FromRequest for VerifiedBody {
    type Error = VerifyRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The head is settled here, before the payload is touched.
        let head = verify_head(request);
        let payload = payload.take();
        Box::pin(async move {
            let (body, verified) = read_verified(head?, payload).await?;
            Ok(VerifiedBody::new(body, verified))
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for VerifiedJson<T> {
    type Error = VerifyRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = VerifiedBody::from_request(request, payload);
        Box::pin(async move { body.await?.json() })
    }
}

fn verify_head(request: &HttpRequest) -> Result<SignedHead, VerifyRejection> {
    let verifier = request
        .app_data::<RequestVerifier>()
        .or_else(|| {
            request
                .app_data::<web::Data<RequestVerifier>>()
                .map(|data| data.get_ref())
        })
        .ok_or(VerifyRejection::NoVerifier)?;
    let (headers, target) = head(request)?;
    verifier
        .verify_head(&headers, &target)
        .map_err(VerifyRejection::Refused)
}

/// The request's headers and URI as the `http` 1 types the verifier reads;
/// actix-web 4 is built on `http` 0.2. Both versions accept the same header
/// names, values and URIs, so nothing actix-web parsed fails here; if it
/// did, the request is refused rather than verified without it.
fn head(request: &HttpRequest) -> Result<(http::HeaderMap, http::Uri), VerifyRejection> {
    let unreadable = || VerifyRejection::Refused(VerifyError::Malformed(Malformed::HeaderValue));
    let mut headers = http::HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let name =
            http::HeaderName::from_bytes(name.as_str().as_bytes()).map_err(|_| unreadable())?;
        let value = http::HeaderValue::from_bytes(value.as_bytes()).map_err(|_| unreadable())?;
        headers.append(name, value);
    }
    let target = http::Uri::try_from(request.uri().to_string())
        .map_err(|_| VerifyRejection::Refused(VerifyError::RequestUrl))?;
    Ok((headers, target))
}
