"""Tables of the `scaffoldtest_69907dd64257463ea` module (none yet).

To add one, subclass `ioc.core.db.Base`, prefix the table name with the module name, store times with
`UTCDateTime` and JSON with `JsonType`, and mark secret columns with `info={"audit": False}`:

    class Scaffoldtest69907dd64257463eaItem(Base):
        __tablename__ = "scaffoldtest_69907dd64257463ea_item"

        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        name: Mapped[str] = mapped_column(String(200))
        created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

Then write its migration and read it before committing it:

    ioc db revision -m "scaffoldtest_69907dd64257463ea: add scaffoldtest_69907dd64257463ea_item"
"""
