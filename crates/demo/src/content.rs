//! The content every persona draws from: people's names, towns, shops and the companies that
//! send bills. Fictional people; real-looking UK places and brands.

pub const FIRST_NAMES: &[&str] = &[
    "Amelia", "Oliver", "Priya", "James", "Aisha", "Thomas", "Sophie", "Daniel", "Chloe",
    "Mohammed", "Grace", "Samuel", "Hannah", "Kwame", "Eleanor", "Rhys", "Isla", "Connor", "Zara",
    "Harriet", "Nikhil", "Megan", "Tomasz", "Fiona", "Ayodele", "Callum", "Bethan", "Yusuf",
    "Lucy", "Arjun",
];
pub const OLDER_FIRST_NAMES: &[&str] = &[
    "Margaret", "Brian", "Patricia", "Keith", "Barbara", "Derek", "Sandra", "Graham", "Maureen",
    "Clive",
];
pub const SURNAMES: &[&str] = &[
    "Thompson", "Patel", "Walker", "Okafor", "Hughes", "Khan", "Evans", "Clarke", "Nowak",
    "Davies", "Robinson", "Begum", "Wright", "Murphy", "Shah", "Campbell", "Adeyemi", "Fletcher",
    "Kaur", "Morgan", "Baxter", "Lewis", "Chen", "Sullivan", "Ahmed",
];

/// Where a customer lives: the address, the council and water company that bill them, and
/// whether the commute is on TfL.
pub struct Town {
    pub name: &'static str,
    pub district: &'static str,
    pub streets: &'static [&'static str],
    pub council: &'static str,
    pub water: &'static str,
    pub london: bool,
}

pub const TOWNS: &[Town] = &[
    Town {
        name: "London",
        district: "SE15",
        streets: &["Bellenden Road", "Choumert Grove", "Lyndhurst Way"],
        council: "Southwark Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "London",
        district: "E8",
        streets: &["Navarino Road", "Richmond Road", "Greenwood Road"],
        council: "Hackney Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "London",
        district: "SW9",
        streets: &["Stockwell Park Road", "Landor Road", "Hackford Road"],
        council: "Lambeth Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "Manchester",
        district: "M20",
        streets: &["Burton Road", "Lapwing Lane", "Palatine Road"],
        council: "Manchester City Council",
        water: "United Utilities",
        london: false,
    },
    Town {
        name: "Bristol",
        district: "BS7",
        streets: &["Berkeley Road", "Egerton Road", "Longmead Avenue"],
        council: "Bristol City Council",
        water: "Bristol Water",
        london: false,
    },
    Town {
        name: "Leeds",
        district: "LS6",
        streets: &["Cardigan Road", "Headingley Avenue", "Ash Road"],
        council: "Leeds City Council",
        water: "Yorkshire Water",
        london: false,
    },
    Town {
        name: "Birmingham",
        district: "B13",
        streets: &["Wake Green Road", "School Road", "Oxford Road"],
        council: "Birmingham City Council",
        water: "Severn Trent Water",
        london: false,
    },
    Town {
        name: "Norwich",
        district: "NR2",
        streets: &["Unthank Road", "Trinity Street", "Park Lane"],
        council: "Norwich City Council",
        water: "Anglian Water",
        london: false,
    },
    Town {
        name: "Brighton",
        district: "BN1",
        streets: &["Ditchling Road", "Preston Drove", "Stanford Avenue"],
        council: "Brighton & Hove City Council",
        water: "Southern Water",
        london: false,
    },
    Town {
        name: "Cardiff",
        district: "CF11",
        streets: &["Cathedral Road", "Kings Road", "Pontcanna Street"],
        council: "Cardiff Council",
        water: "Dwr Cymru Welsh Water",
        london: false,
    },
];

/// How a card authorisation turns into a settlement.
#[derive(Debug, Clone, Copy)]
pub enum Settle {
    Exact,
    /// Restaurants: the tip is added after the authorisation.
    Tip,
    /// Taxis: the fare is estimated up front.
    Estimate,
    /// Fuel pumps and hotels hold a round sum and settle for what was used.
    Hold {
        hold: i64,
    },
    /// Online orders are now and then cancelled before dispatch.
    Cancellable,
}

/// A merchant and what a purchase there costs (in pence).
#[derive(Debug)]
pub struct Shop {
    pub name: &'static str,
    /// ISO 18245 merchant category code.
    pub mcc: &'static str,
    pub min: i64,
    pub max: i64,
    pub settle: Settle,
}

const fn shop(name: &'static str, mcc: &'static str, min: i64, max: i64, settle: Settle) -> Shop {
    Shop {
        name,
        mcc,
        min,
        max,
        settle,
    }
}

use Settle::{Cancellable, Estimate, Exact, Hold, Tip};

impl Town {
    /// How people get to work here.
    pub fn commute(&self) -> &'static [Shop] {
        if self.london { TFL } else { LOCAL_TRANSPORT }
    }
}

pub const BIG_SHOP: &[Shop] = &[
    shop("Tesco", "5411", 2200, 9500, Exact),
    shop("Sainsbury's", "5411", 2000, 9000, Exact),
    shop("Asda", "5411", 1800, 8500, Exact),
    shop("Aldi", "5411", 1500, 6500, Exact),
    shop("Lidl", "5411", 1500, 6000, Exact),
    shop("Waitrose & Partners", "5411", 2500, 9800, Exact),
];
pub const TOP_UP_SHOP: &[Shop] = &[
    shop("Tesco Express", "5411", 250, 2200, Exact),
    shop("Sainsbury's Local", "5411", 250, 2000, Exact),
    shop("Co-op Food", "5411", 200, 1800, Exact),
    shop("M&S Simply Food", "5411", 400, 2500, Exact),
];
pub const COFFEE: &[Shop] = &[
    shop("Pret A Manger", "5814", 280, 650, Exact),
    shop("Costa Coffee", "5814", 300, 620, Exact),
    shop("Caffe Nero", "5814", 290, 590, Exact),
    shop("Greggs", "5814", 150, 420, Exact),
];
pub const LUNCH: &[Shop] = &[
    shop("Greggs", "5814", 250, 750, Exact),
    shop("Pret A Manger", "5814", 450, 1100, Exact),
    shop("Leon", "5814", 650, 1200, Exact),
    shop("itsu", "5814", 550, 1150, Exact),
    shop("Tesco Express", "5411", 350, 600, Exact),
];
pub const RESTAURANT: &[Shop] = &[
    shop("Nando's", "5812", 1600, 4800, Tip),
    shop("Wagamama", "5812", 1800, 5200, Tip),
    shop("Dishoom", "5812", 2500, 7500, Tip),
    shop("PizzaExpress", "5812", 1900, 5600, Tip),
    shop("Franco Manca", "5812", 1500, 4200, Tip),
];
pub const PUB: &[Shop] = &[
    shop("J D Wetherspoon", "5813", 450, 2400, Exact),
    shop("The Crown & Anchor", "5813", 600, 3800, Exact),
    shop("Brewdog", "5813", 700, 3200, Exact),
];
pub const TAKEAWAY: &[Shop] = &[
    shop("Deliveroo", "5812", 1400, 3800, Exact),
    shop("Just Eat", "5812", 1300, 3400, Exact),
    shop("Uber Eats", "5812", 1500, 3600, Exact),
];
pub const TFL: &[Shop] = &[shop("TfL Travel Charge", "4111", 280, 890, Exact)];
pub const LOCAL_TRANSPORT: &[Shop] = &[
    shop("First Bus", "4131", 250, 550, Exact),
    shop("Stagecoach", "4131", 250, 600, Exact),
    shop("Trainline", "4112", 900, 6500, Exact),
];
pub const TAXI: &[Shop] = &[
    shop("Uber", "4121", 800, 2800, Estimate),
    shop("Bolt", "4121", 700, 2200, Estimate),
];
pub const FUEL: &[Shop] = &[
    shop("Shell", "5542", 0, 0, Hold { hold: 9900 }),
    shop("BP", "5542", 0, 0, Hold { hold: 9900 }),
    shop("Esso", "5542", 0, 0, Hold { hold: 9900 }),
];
pub const ONLINE: &[Shop] = &[
    shop("Amazon UK", "5942", 600, 6000, Cancellable),
    shop("Amazon Marketplace", "5999", 500, 4500, Cancellable),
    shop("ASOS", "5691", 1500, 8000, Cancellable),
    shop("Argos", "5311", 800, 9000, Cancellable),
];
pub const HEALTH: &[Shop] = &[
    shop("Boots", "5912", 300, 2500, Exact),
    shop("Superdrug", "5912", 300, 1800, Exact),
];
pub const LEISURE: &[Shop] = &[
    shop("Odeon", "7832", 900, 2800, Exact),
    shop("Waterstones", "5942", 800, 2500, Exact),
    shop("Majestic Wine", "5921", 1200, 6000, Exact),
    shop("John Lewis", "5311", 1500, 12000, Exact),
];
pub const TRADE_COUNTER: &[Shop] = &[
    shop("Screwfix", "5251", 1200, 18000, Exact),
    shop("Toolstation", "5251", 900, 12000, Exact),
    shop("Wickes", "5211", 1500, 22000, Exact),
    shop("Travis Perkins", "5211", 2500, 35000, Exact),
];
pub const GARDEN: &[Shop] = &[
    shop("Dobbies Garden Centre", "5261", 800, 6000, Exact),
    shop("Boots", "5912", 300, 2000, Exact),
    shop("National Trust", "8398", 800, 3000, Exact),
];
pub const HOLIDAY: &[Shop] = &[
    shop("easyJet", "4511", 9000, 32000, Exact),
    shop("Premier Inn", "7011", 0, 0, Hold { hold: 15000 }),
    shop("Airbnb", "4722", 12000, 45000, Exact),
];
pub const CHRISTMAS: &[Shop] = &[
    shop("John Lewis", "5311", 2500, 15000, Exact),
    shop("Amazon UK", "5942", 1500, 9000, Exact),
    shop("Marks & Spencer", "5311", 2000, 12000, Exact),
];
pub const NETFLIX: Shop = shop("Netflix", "4899", 1099, 1099, Exact);
pub const SPOTIFY: Shop = shop("Spotify", "5815", 1199, 1199, Exact);

/// The companies a household picks once and pays by direct debit.
pub const ENERGY_SUPPLIERS: &[&str] = &["Octopus Energy", "British Gas", "EDF Energy", "E.ON Next"];
pub const BROADBAND_PROVIDERS: &[&str] = &["BT", "Virgin Media", "Sky Broadband", "Hyperoptic"];
pub const MOBILE_NETWORKS: &[&str] = &["Vodafone UK", "EE", "O2", "Three", "giffgaff"];
pub const GYMS: &[&str] = &["PureGym", "The Gym Group", "Better Leisure"];
pub const MORTGAGE_LENDERS: &[&str] =
    &["Nationwide BS", "Halifax Mortgages", "Santander Mortgages"];

pub const EMPLOYERS: &[&str] = &[
    "Northwind Logistics Ltd",
    "Harbour & Vale LLP",
    "Kestrel Software Ltd",
    "Meridian Retail plc",
    "Oakfield Academy Trust",
    "Fenwick Engineering Ltd",
    "Lumen Health Partners",
];
/// Day of the month salaries are paid; `None` is the last working day.
pub const PAYDAYS: &[Option<u8>] = &[None, Some(25), Some(28), Some(15)];

pub const PENSION_PROVIDERS: &[&str] = &["Aviva Annuity", "Legal & General", "Scottish Widows"];

pub const TRADES: &[&str] = &[
    "Plumbing & Heating",
    "Electrical",
    "Joinery",
    "Decorating",
    "Roofing",
];
/// The businesses a sole trader invoices; private clients are made up on the way.
pub const BUSINESS_CLIENTS: &[&str] = &[
    "Hillside Lettings Ltd",
    "Gorman Property Services",
    "Riverside Dental Practice",
];
pub const TITLES: &[&str] = &["Mr", "Mrs", "Ms", "Dr"];
pub const INITIALS: &[u8] = b"ABCDEFGHJKLMNPRSTW";

/// One-off payments booked ahead that the daily jobs later made.
pub const ONE_OFF_PAYEES: &[(&str, &str)] = &[
    ("Howdens Joinery", "KITCHEN DEPOSIT"),
    ("Riverside Vets", "INV 20931"),
    ("St Mary's Church Hall", "PARTY HIRE"),
    ("Kwik Fit", "TYRES"),
];

pub const TO_FRIEND: &[&str] = &[
    "Dinner",
    "Drinks",
    "Taxi",
    "Gig tickets",
    "Birthday present",
    "Cinema",
    "Football",
    "Pizza",
    "Festival",
    "Petrol",
];
pub const FROM_FRIEND: &[&str] = &[
    "Thanks!",
    "My share",
    "Dinner",
    "Cinema",
    "Petrol money",
    "Tickets",
    "Brunch",
];

/// Sort code ranges of the big UK clearers, so other banks' numbers look like real accounts.
pub const OTHER_BANK_PREFIXES: &[u32] = &[20, 40, 30, 60, 77, 83, 9, 11, 16, 23];
/// The letters a postcode's unit may end in.
pub const POSTCODE_UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
/// National Insurance number prefix letters and suffixes.
pub const NI_PREFIX_LETTERS: &[u8] = b"ABCEGHJKLMNPRSTWXYZ";
pub const NI_SUFFIXES: &[u8] = b"ABCD";
