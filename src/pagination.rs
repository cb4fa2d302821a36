//! Cursor pagination: one page at a time ([`Page`]), or every item of every
//! page as a [`futures_core::Stream`] ([`Paginated`]).
//!
//! QStash's cursor-paginated lists (logs, DLQ messages) answer with some
//! items and a `cursor`; asking again with that cursor gives the next page,
//! and, in the spec's words, "if no cursor is returned, you have reached
//! the end". A page with fewer items than asked for, or none, says nothing
//! about the end (with a filter set, a page may match nothing while later
//! ones do): only a missing cursor ends the list.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::Error;

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in QStash's order. May be short, or empty,
    /// even when more pages follow.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from what QStash answered (or a fake of it, in a test). QStash
    /// marks the last page by leaving the cursor out; an empty cursor would
    /// ask for the first page again, so it ends the list too.
    pub fn new(items: Vec<T>, cursor: Option<String>) -> Page<T> {
        Page {
            items,
            cursor: cursor.filter(|cursor| !cursor.is_empty()),
        }
    }
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;
type FetchPage<T> = Box<dyn FnMut(Option<String>) -> PageFuture<T> + Send>;

/// Every item of a cursor-paginated list, page after page, as a
/// [`Stream`] of `Result<T, Error>`.
///
/// Pages are fetched lazily: the first when the stream is first polled, the
/// next only once every item of the current one has been taken, so memory
/// holds at most one page however long the list. Dropping the stream stops
/// it; nothing more is sent.
///
/// A page that fails (after whatever retries the client applies to every
/// request) comes out as one `Err` item, after which the stream ends;
/// [`cursor`](Self::cursor) then says where to pick up again. A page whose
/// cursor is the one it was asked for with would repeat forever: its items
/// are handed out, then an [`Error::Decode`] item ends the stream.
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
/// let mut logs = client.logs().list().stream();
/// while let Some(entry) = logs.try_next().await? {
///     println!("{:?} {:?}", entry.message_id, entry.state);
/// }
/// # Ok(()) }
/// ```
pub struct Paginated<T> {
    fetch: FetchPage<T>,
    /// Items of the current page not yet handed out.
    buffered: std::vec::IntoIter<T>,
    /// The cursor the current page was asked for with.
    page_cursor: Option<String>,
    state: State<T>,
}

enum State<T> {
    /// The next request starts at this cursor (`None`: the first page).
    Ready(Option<String>),
    /// A page is on its way; the cursor it was asked for with is kept for
    /// [`Paginated::cursor`].
    Fetching(Option<String>, PageFuture<T>),
    /// The last page has been read.
    Finished,
    /// This error is the next item, after which the stream ends; the
    /// cursor is where to resume (`None` for input refused before anything
    /// was sent).
    Ending(Option<String>, Error),
    /// A page failed; it can be asked for again from this cursor.
    Failed(Option<String>),
}

impl<T> Paginated<T> {
    /// A stream that calls `fetch` with the cursor of each page to read,
    /// starting with `start` (`None` for the first page).
    pub(crate) fn new<F, Fut>(start: Option<String>, mut fetch: F) -> Paginated<T>
    where
        F: FnMut(Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
    {
        Paginated {
            fetch: Box::new(move |cursor| Box::pin(fetch(cursor))),
            buffered: Vec::new().into_iter(),
            page_cursor: None,
            state: State::Ready(start),
        }
    }

    /// A stream whose one item is `error`, for a request refused before
    /// anything was sent.
    pub(crate) fn refused(error: Error) -> Paginated<T>
    where
        T: Send + 'static,
    {
        Paginated {
            fetch: Box::new(|_| Box::pin(std::future::ready(Ok(Page::new(Vec::new(), None))))),
            buffered: Vec::new().into_iter(),
            page_cursor: None,
            state: State::Ending(None, error),
        }
    }

    /// Where the first page not yet fully read starts: the cursor to resume
    /// from after an error, or to keep and continue with later. `None` when
    /// that is the first page, or when the last page has been read.
    ///
    /// A page partly taken counts as not read: resuming from here repeats
    /// the items of it already taken.
    pub fn cursor(&self) -> Option<&str> {
        if self.buffered.len() > 0 {
            return self.page_cursor.as_deref();
        }
        match &self.state {
            State::Ready(cursor)
            | State::Fetching(cursor, _)
            | State::Failed(cursor)
            | State::Ending(cursor, _) => cursor.as_deref(),
            State::Finished => None,
        }
    }

    /// How many items of the current page are held and not yet taken.
    pub fn buffered_len(&self) -> usize {
        self.buffered.len()
    }
}

// Items are only ever moved, never pinned in place, and the page future is
// boxed: nothing in a `Paginated` relies on staying at one address.
impl<T> Unpin for Paginated<T> {}

impl<T> Stream for Paginated<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Nothing here is structurally pinned (the page future is boxed),
        // so `Paginated` is `Unpin` and a plain `&mut` is fine.
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffered.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            match std::mem::replace(&mut this.state, State::Finished) {
                State::Finished => return Poll::Ready(None),
                State::Failed(cursor) => {
                    this.state = State::Failed(cursor);
                    return Poll::Ready(None);
                }
                State::Ending(cursor, error) => {
                    this.state = State::Failed(cursor);
                    return Poll::Ready(Some(Err(error)));
                }
                State::Ready(cursor) => {
                    let page = (this.fetch)(cursor.clone());
                    this.state = State::Fetching(cursor, page);
                }
                State::Fetching(cursor, mut page) => match page.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = State::Fetching(cursor, page);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(page)) => {
                        // The previous page's buffer is empty here, so at
                        // most one page is ever held.
                        this.buffered = page.items.into_iter();
                        this.state = match page.cursor {
                            // Asking again with the same cursor would get the
                            // same answer: the walk would never end.
                            Some(next) if Some(&next) == cursor.as_ref() => State::Ending(
                                cursor.clone(),
                                Error::Decode {
                                    reason: "QStash answered with the cursor it was asked \
                                             with, so the list would never end"
                                        .into(),
                                    snippet: next,
                                },
                            ),
                            Some(next) => State::Ready(Some(next)),
                            None => State::Finished,
                        };
                        this.page_cursor = cursor;
                    }
                    Poll::Ready(Err(error)) => {
                        this.state = State::Failed(cursor);
                        return Poll::Ready(Some(Err(error)));
                    }
                },
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.buffered.len();
        match self.state {
            State::Finished | State::Failed(_) => (buffered, Some(buffered)),
            State::Ending(..) => (buffered + 1, Some(buffered + 1)),
            State::Ready(_) | State::Fetching(..) => (buffered, None),
        }
    }
}

impl<T> futures_core::FusedStream for Paginated<T> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Finished | State::Failed(_)) && self.buffered.len() == 0
    }
}

impl<T> fmt::Debug for Paginated<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Ready(_) => "ready",
            State::Fetching(..) => "fetching",
            State::Finished => "finished",
            State::Ending(..) => "ending",
            State::Failed(_) => "failed",
        };
        f.debug_struct("Paginated")
            .field("state", &state)
            .field("cursor", &self.cursor())
            .field("buffered", &self.buffered.len())
            .finish()
    }
}
